// Browser tests of the web UI. Chromium is the system's (Debian's `chromium` package):
// Playwright's own browser download is skipped (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 when
// installing), so nothing but npm packages is fetched. `run.sh` builds vulnbridge and runs these.
const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests',
  globalSetup: require.resolve('./global-setup.js'),
  globalTeardown: require.resolve('./global-teardown.js'),
  // One demo server is shared; tests that change data are written not to depend on order.
  workers: 1,
  timeout: 30_000,
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      // Root in CI containers: Chromium refuses its sandbox there.
      args: ['--no-sandbox'],
    },
    baseURL: process.env.VULNBRIDGE_E2E_URL,
    trace: 'off',
  },
});
