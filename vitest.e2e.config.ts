import { defineConfig } from 'vitest/config';

/** End-to-end suite: the whole pipeline through the built CLI on the demo and the real cohorts. */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
