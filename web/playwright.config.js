// Browser tests of the web desktop: Debian's Chromium (no browser is downloaded), one worker,
// against `postroom serve` started on 127.0.0.1 by e2e/serve.sh with a fresh data folder.
import { defineConfig } from '@playwright/test';

const port = process.env.POSTROOM_E2E_PORT || '18484';

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    },
  },
  webServer: {
    command: `sh e2e/serve.sh ${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
