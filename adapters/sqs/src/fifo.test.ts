// The conformance suite on moto in FIFO mode (SNS FIFO topic → SQS FIFO queues).
import { runConformanceTests } from '@omnibus/conformance';
import { it } from 'vitest';
import { motoUnavailable, sqsHarness } from './testing/harness.js';

const unavailable = await motoUnavailable();
if (unavailable === undefined) runConformanceTests(sqsHarness('sqs (fifo)', { fifo: true }));
else it.skip(`conformance on moto: ${unavailable}`, () => undefined);
