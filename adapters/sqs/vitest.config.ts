import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One file per mode (fan-out, queue, FIFO), run side by side: each waits mostly on moto's long polls.
    // vitest defaults to one worker per core but one; the three files mostly wait on moto, so they
    // run side by side even on two cores.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
