import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One file per mode (fan-out, queue, FIFO), run side by side: each waits mostly on moto's long polls.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
