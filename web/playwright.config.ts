import { defineConfig } from '@playwright/test';

// Debian's Chromium (scripts/test.sh installs it with apt when missing); never `playwright install`.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results',
  // One local system for every test file (services, two agents, the dashboard), started once; or one already
  // started by `node web/e2e/local-dashboard.ts` when CONVERGE_E2E_RUNNING=1.
  ...(process.env.CONVERGE_E2E_RUNNING === '1' ? {} : { globalSetup: './e2e/global-setup.ts' }),
  fullyParallel: false,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:5173',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    },
  },
});
