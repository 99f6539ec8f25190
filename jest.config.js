// One jest run over every workspace. TypeScript is stripped by SWC into native ESM
// (the same module semantics as `node src/main.ts` in production).
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2024', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  roots: [
    '<rootDir>/agent',
    '<rootDir>/charts',
    '<rootDir>/packages',
    '<rootDir>/services',
    '<rootDir>/proto',
    '<rootDir>/web',
  ],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/scripts/jest/global-setup.js',
  testTimeout: 60_000,
  maxWorkers: 2,
};
