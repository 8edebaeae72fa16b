import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test spawns the built binary against the shared brokers: two cores, so one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
