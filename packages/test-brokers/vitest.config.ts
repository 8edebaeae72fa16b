// Vitest settings for the private-broker tests: long enough for a RabbitMQ node to boot and stop.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A RabbitMQ node takes 5-10 s to accept AMQP and 3-4 s to shut down, on two shared cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
