// Unit and integration tests (Node). Browser e2e specs live in e2e/ and run under Playwright.
// `npm run test:smoke` runs the fast `smoke` project: domain, protocol, stores and API, no Pyodide.
import { defineConfig } from 'vitest/config';

const shared = {
  exclude: ['**/node_modules/**', 'dist/**', 'e2e/**', '**/*.case.test.ts'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          ...shared,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'smoke',
          include: ['coordinator/**/*.test.ts', 'protocol/**/*.test.ts'],
          ...shared,
        },
      },
    ],
  },
});
