export { getAccessToken } from './access-token.ts';
export { stack } from './stack.ts';
export { uniqueId } from './unique-id.ts';
export { waitFor } from './wait-for.ts';
export type { WaitForOptions } from './wait-for.ts';
export { seededRandom } from './seeded-random.ts';
export { startService } from './service-process.ts';
export { testKeys } from './test-keys.ts';
export type { LogLine, ServiceProcess, StartServiceOptions } from './service-process.ts';
