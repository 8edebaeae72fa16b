// The conformance suite against the shared Pub/Sub emulator.
import { runConformanceTests } from '@omnibus/conformance';
import { afterAll, it } from 'vitest';
import { emulatorUnavailable } from './testing/emulator.js';
import { pubsubHarness } from './testing/harness.js';

const unavailable = await emulatorUnavailable();

if (unavailable === undefined) {
  const harness = pubsubHarness();
  afterAll(() => harness.closeAll());
  runConformanceTests(harness);
} else {
  it.skip(`conformance against the Pub/Sub emulator: ${unavailable}`, () => undefined);
}
