// The conformance suite against a 3-master Redis Cluster this file starts on loopback ports.
import { runConformanceTests } from '@omnibus/conformance';
import { Cluster } from 'ioredis';
import { afterAll, it } from 'vitest';
import { redisHarness } from './test-support/harness.js';
import { type LocalCluster, startLocalCluster } from './test-support/local-cluster.js';

let cluster: LocalCluster | undefined;
let unavailable: string | undefined;
try {
  cluster = await startLocalCluster();
} catch (error) {
  unavailable = `could not start a local Redis Cluster (redis-server and redis-cli needed): ${(error as Error).message}`;
  if (process.env.OMNIBUS_REQUIRE_BROKERS === '1')
    throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${unavailable}`);
}

if (cluster !== undefined) {
  const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }));
  const admin = new Cluster(nodes);
  const harness = redisHarness({
    name: 'redis-cluster',
    admin,
    cluster: true,
    createClient: (connectionName) => new Cluster(nodes, { redisOptions: { connectionName } }),
  });
  afterAll(async () => {
    await harness.closeAll();
    admin.disconnect();
    await cluster?.stop();
  });
  runConformanceTests(harness);
} else {
  it.skip(`conformance against Redis Cluster: ${unavailable}`, () => undefined);
}
