/**
 * `@omnibus/conformance`: the suite every adapter's test file runs in one line.
 *
 * ```ts
 * runConformanceTests({ name: 'redis', connect: ({ prefix }) => connect(url, { prefix }) });
 * ```
 *
 * Each test gets its own prefix, and its own unique names within it, so tests and runs never see
 * each other's messages; every bus a test opens is closed after it. A test is skipped only for an
 * undeclared capability or a missing harness hook, and the skip note names which (`ctx.skip(note)`,
 * shown in the report). The capability is read from the test's own bus at run time, so the suite
 * needs no broker while vitest collects tests; tests for the *absence* of a capability check that it
 * is refused with `Unsupported`.
 *
 * Where the established suites' cases live here ("file › test"):
 *
 * google/go-cloud pubsub/drivertest (14), whose harness hands out drivers: with `harness.driver`
 * the `contract` file checks the driver's own rules the same way.
 * - TestSendReceive ............ send-receive › delivers every message sent after ready() with its id, body and attributes
 * - TestSendReceiveTwo ......... fanout › every subscription of a topic gets every message
 * - TestSendReceiveJSON ........ send-receive › round-trips JSON bodies of every JSON type
 * - TestNack ................... ack-nack › nack() releases pulled messages for redelivery with attempt + 1
 * - TestBatching ............... send-receive › sendBatch delivers every entry…; sendBatch larger than capabilities.maxBatchSize…
 * - TestDoubleAck .............. ack-nack › a second settle is a no-op that returns the first outcome (ack); …after nack or deadLetter…
 * - TestErrorOnSendToClosedTopic ............. errors › send after bus.close() rejects Closed
 * - TestErrorOnReceiveFromClosedSubscription . errors › consuming after bus.close() rejects Closed
 * - TestCancelSendReceive ...... shutdown › stop() ends a pending messages() iteration (stop is our cancellation)
 * - TestNonExistentTopicSucceedsOnOpenButFailsOnSend ......... errors › send to a topic nobody subscribed to either succeeds or rejects NotFound
 * - TestNonExistentSubscriptionSucceedsOnOpenButFailsOnReceive errors › stats of a subscription never created reject NotFound; dead letters of a subscription never created reject NotFound
 * - TestMetadata ............... send-receive › round-trips attributes exactly, adding none of its own
 * - TestNonUTF8MessageBody ..... send-receive › round-trips a binary body byte for byte
 * - TestAs ..................... send-receive › exposes the native client and the native message (escape hatches)
 * - (driver-level) TestBatching, TestDoubleAck, TestCancelSendReceive, TestMetadata at the driver:
 *   contract › core never passes more than batch.publish / batch.settle entries…; a stale handle…;
 *   a receive whose signal is aborted…; a published message reads back with its id, body bytes…
 *
 * ThreeDotsLabs/watermill pubsub/tests (16)
 * - TestPublishSubscribe ....... send-receive › delivers every message sent after ready()…
 * - TestConcurrentSubscribe .... fanout › consumers sharing a subscription compete…; concurrency › runs at most concurrency (4)…
 * - TestConcurrentSubscribeMultipleTopics  send-receive › keeps topics apart
 * - TestResendOnError .......... ack-nack › a handler that throws gets the message again: attempt 2…
 * - TestNoAck .................. concurrency › runs at most concurrency (1)…; lease › a handler that runs 1.5× the lease keeps its message
 * - TestContinueAfterSubscribeClose  shutdown › stop() under load loses nothing…
 * - TestConcurrentClose ........ shutdown › closing buses while their consumers start loses nothing
 * - TestContinueAfterErrors .... ack-nack › a message that keeps failing does not hold up the others
 * - TestPublishSubscribeInOrder  ordering › messages sharing an orderingKey are handled in send order, one at a time
 * - TestPublisherClose ......... send-receive › many concurrent sends are all delivered; errors › send after bus.close() rejects Closed
 * - TestTopic .................. send-receive › keeps topics apart
 * - TestMessageCtx ............. shutdown › stop() waits for running handlers and acks what they finish; shutdown › bus.close() stops its consumers…
 * - TestSubscribeCtx ........... shutdown › stop() ends a pending messages() iteration
 * - TestNewSubscriberReceivesOldMessages  send-receive › a subscription keeps messages sent while no consumer runs
 * - TestReconnect .............. faults › carries on after a broker restart
 * - TestConsumerGroups ......... fanout › every subscription of a topic gets every message (groups = subscriptions)
 *
 * dapr/components-contrib tests/conformance/pubsub (10)
 * - init ....................... every test (harness.connect + consumer.ready())
 * - subscribe / publish ........ send-receive › delivers every message sent after ready()…
 * - verify read (handler errors retried, duplicates tolerated)  ack-nack › a message that keeps failing…; a handler that throws…
 * - in-order processing ........ ordering › messages sharing an orderingKey…; a failing message holds back the later messages of its key…
 * - bulkPublish ................ send-receive › sendBatch delivers every entry…
 * - bulkSubscribe / verify read on bulk subscription  concurrency › runs at most concurrency (4)…; send-receive › many concurrent sends…
 * - multiple topics ............ send-receive › keeps topics apart
 * - unsubscribe ................ shutdown › bus.close() stops its consumers and is idempotent
 *
 * Beyond all three: redelivery with attempt counts, nack with delay, dead-lettering after exactly
 * maxAttempts, explicit dead-lettering, schema failures, redrive, purge, peek, lease extension, a
 * consumer that goes away mid-message, delayed delivery, ordering under failure, stop() under load,
 * stuck handlers at shutdown, the concurrency limit, the portable rule set, error codes, stats,
 * settle-once and `Unsupported` for every undeclared capability; attempts that count only deliveries
 * a handler got and dead letters that record the exact attempts and cause (`attempts`); a redrive
 * that moves only what was there when it started; `AlreadyExists` for conflicting subscription
 * settings; the portable option bounds; bounded, typed failure against an unreachable broker or an
 * endpoint of another protocol (`unreachable`); subscriptions a producer declares, which keep
 * messages sent before any consumer ran (`declare`); selective DLQ admin by ids, reason and
 * failure time with per-letter results, dry runs, the redrive-loop guard across real cycles and
 * runs that carry on past one letter's failure (`dead-letter-admin`); subscriptions and topics
 * deleted idempotently and created again empty (`topology-delete`); and, through
 * `harness.driver`, the driver contract's own rules (`contract`): coherent capabilities, batch limits core honours, per-entry
 * batch results retried alone, release not counting, abort, stale handles, idempotent close,
 * fidelity and long names.
 *
 * Attempt numbers are held to `capabilities.attempts` (exact where declared so, else never below
 * the deliveries a handler got); DLQ admin to `capabilities.deadLetterAdmin` (peek `none` rejects
 * `Unsupported`, `count-bumping` may raise recorded attempts, redrive scope `subscription` or
 * `topic`); a declared `nativeDeadLetter` is checked never to pre-empt core.
 *
 * @packageDocumentation
 */
import { afterEach, describe } from 'vitest';
import { registerAckNackTests } from './ack-nack.js';
import { registerAttemptTests } from './attempts.js';
import { registerConcurrencyTests } from './concurrency.js';
import { registerContractTests } from './contract.js';
import { registerDeadLetterTests } from './dead-letter.js';
import { registerDeadLetterAdminTests } from './dead-letter-admin.js';
import { registerDeclareTests } from './declare.js';
import { registerDelayedTests } from './delayed.js';
import { registerErrorTests } from './errors.js';
import { registerFanoutTests } from './fanout.js';
import { registerFaultTests } from './faults.js';
import type { ConformanceHarness, ConformanceOptions } from './harness.js';
import { createSuite } from './helpers.js';
import { registerLeaseTests } from './lease.js';
import { registerOrderingTests } from './ordering.js';
import { registerSendReceiveTests } from './send-receive.js';
import { registerShutdownTests } from './shutdown.js';
import { registerStatsTests } from './stats.js';
import { registerTopologyDeleteTests } from './topology-delete.js';
import { registerUnreachableTests } from './unreachable.js';
import { registerValidationTests } from './validation.js';

export type { ConformanceHarness, ConformanceOptions } from './harness.js';

/** Registers the whole conformance suite for one adapter as vitest `describe`/`it` blocks. */
export function runConformanceTests(
  harness: ConformanceHarness,
  options: ConformanceOptions = {},
): void {
  const suite = createSuite(harness, options);
  describe(`omnibus conformance: ${harness.name}`, () => {
    afterEach(() => suite.cleanup(), suite.timeoutMs * 2);
    registerSendReceiveTests(suite);
    registerAckNackTests(suite);
    registerDeadLetterTests(suite);
    registerDeadLetterAdminTests(suite);
    registerAttemptTests(suite);
    registerOrderingTests(suite);
    registerLeaseTests(suite);
    registerShutdownTests(suite);
    registerErrorTests(suite);
    registerFaultTests(suite);
    registerUnreachableTests(suite);
    registerValidationTests(suite);
    registerDelayedTests(suite);
    registerStatsTests(suite);
    registerFanoutTests(suite);
    registerConcurrencyTests(suite);
    registerDeclareTests(suite);
    registerTopologyDeleteTests(suite);
    registerContractTests(suite);
  });
}
