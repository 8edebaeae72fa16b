// The conformance suite on moto in FIFO mode (SNS FIFO topic → SQS FIFO queues).
import { runConformanceTests } from '@omnibus/conformance';
import { it } from 'vitest';
import { motoUnavailable, sqsHarness } from './testing/harness.js';

const unavailable = await motoUnavailable();
// moto 5.2's FIFO long poll reads which message groups are in flight once, when it starts: a group
// freed by a delete during the wait stays blocked until the poll ends (SQS itself returns at once).
// One-second polls keep that emulator gap from holding up every FIFO test by up to 20 s.
if (unavailable === undefined)
  runConformanceTests(sqsHarness('sqs (fifo)', { fifo: true, waitTimeSeconds: 1 }));
else it.skip(`conformance on moto: ${unavailable}`, () => undefined);
