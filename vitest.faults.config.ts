import { defineConfig } from 'vitest/config';

// The fault-injection suite (npm run test:faults): real processes and real failures, several
// of them minutes long. The files mostly wait on outages and intervals, so they run side by
// side to keep CI short; each one starts the servers it breaks.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    maxWorkers: 4,
    fileParallelism: true,
    reporters: ['default'],
  },
});
