// The conformance suite on moto in queue mode (one SQS queue per topic).
import { runConformanceTests } from '@omnibus/conformance';
import { it } from 'vitest';
import { motoUnavailable, sqsHarness } from './testing/harness.js';

const unavailable = await motoUnavailable();
if (unavailable === undefined)
  runConformanceTests(sqsHarness('sqs (queue mode)', { mode: 'queue' }));
else it.skip(`conformance on moto: ${unavailable}`, () => undefined);
