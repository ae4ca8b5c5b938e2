// Browser tests against the real app binary (see lib/global-setup.js), in Debian's Chromium.
const { defineConfig } = require('@playwright/test');
const { LANGUAGES } = require('./lib/languages');
const paths = require('./lib/paths');

module.exports = defineConfig({
  testDir: './specs',
  globalSetup: require.resolve('./lib/global-setup.js'),
  outputDir: paths.RESULTS,
  // One app and one database for all: each test makes its own orders and contact addresses,
  // so two run side by side (`--workers 1` for one at a time).
  workers: 2,
  fullyParallel: false,
  forbidOnly: process.env.CI === 'true',
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], [require.resolve('./lib/summary-reporter.js')]],
  use: {
    launchOptions: { executablePath: paths.CHROMIUM, args: ['--no-sandbox'] },
    viewport: { width: 1280, height: 900 },
    locale: 'nb-NO',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: LANGUAGES.map(({ code }) => ({ name: code, use: { lang: code } })),
});
