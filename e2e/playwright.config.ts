// Browser e2e: real Chromium driven by Playwright against coordinators the specs start themselves.
import { defineConfig } from '@playwright/test';
import { findChromium } from './browser-path.mjs';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  // Two cores: one spec at a time, each with its own coordinator and browser contexts.
  workers: 1,
  fullyParallel: false,
  timeout: 240_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  retries: 0,
  outputDir: '../test-results',
  use: {
    launchOptions: {
      executablePath: findChromium(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
