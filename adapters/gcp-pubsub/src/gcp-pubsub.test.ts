// The conformance suite against the shared Pub/Sub emulator.
import { runConformanceTests } from '@omnibus/conformance';
import { afterAll, it } from 'vitest';
import { startCuttingProxy } from './testing/cutting-proxy.js';
import { EMULATOR_HOST, emulatorUnavailable } from './testing/emulator.js';
import { pubsubHarness } from './testing/harness.js';

const unavailable = await emulatorUnavailable();

if (unavailable === undefined) {
  const proxy = await startCuttingProxy(EMULATOR_HOST);
  const harness = pubsubHarness(proxy);
  afterAll(async () => {
    await harness.closeAll();
    await proxy.close();
  });
  runConformanceTests(harness);
} else {
  it.skip(`conformance against the Pub/Sub emulator: ${unavailable}`, () => undefined);
}
