import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The suites are timing-sensitive (leases, delays) and share two cores with Redis: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
