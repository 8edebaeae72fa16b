import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No GCE metadata probe: the tests talk to the emulator, never to Google.
    env: { METADATA_SERVER_DETECTION: 'none' },
  },
});
