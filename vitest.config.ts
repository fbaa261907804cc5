import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: property runs are CPU-bound, so one worker per core.
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'invariants/**/*.ts', 'scenarios/**/*.ts'],
      exclude: ['src/bench/**'],
      reporter: ['text-summary'],
    },
  },
});
