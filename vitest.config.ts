import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite has its own config and command (npm run test:faults).
    exclude: ['test/faults/**', '**/node_modules/**'],
    // One real PostgreSQL for the whole run (or PGQUERYLENS_TEST_DSN's server).
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
