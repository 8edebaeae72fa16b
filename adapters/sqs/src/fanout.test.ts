// The conformance suite on moto in fan-out mode (SNS topic → SQS queue per subscription).
import { runConformanceTests } from '@omnibus/conformance';
import { it } from 'vitest';
import { motoUnavailable, sqsHarness } from './testing/harness.js';

const unavailable = await motoUnavailable();
if (unavailable === undefined) runConformanceTests(sqsHarness('sqs (fan-out)', {}));
else it.skip(`conformance on moto: ${unavailable}`, () => undefined);
