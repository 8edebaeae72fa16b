// The conformance suite against the shared standalone Redis.
import { runConformanceTests } from '@omnibus/conformance';
import { Redis } from 'ioredis';
import { afterAll, it } from 'vitest';
import { redisHarness } from './test-support/harness.js';
import { REDIS_URL, redisUnavailable } from './test-support/redis-server.js';

const unavailable = await redisUnavailable();

if (unavailable === undefined) {
  const admin = new Redis(REDIS_URL);
  const harness = redisHarness({
    name: 'redis',
    admin,
    createClient: (connectionName) =>
      new Redis(REDIS_URL, { connectionName, autoResendUnfulfilledCommands: false }),
  });
  afterAll(async () => {
    await harness.closeAll();
    admin.disconnect();
  });
  runConformanceTests(harness);
} else {
  it.skip(`conformance against Redis: ${unavailable}`, () => undefined);
}
