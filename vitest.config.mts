import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites open real sockets and child processes; keep them in separate forks.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The second says when each file starts and stops one that hangs (see its header).
    reporters: ['default', './test/helpers/progress-reporter.mts'],
  },
});
