// What the SQS driver declares it can do, per mode (fan-out, queue, FIFO), as data core and the conformance suite read.
import type { Capabilities } from '@omnibus/core/driver';
import { MAX_NAME_LENGTH } from './broker-names.js';

/** The connection's topology: SNS topics feeding SQS queues, or one SQS queue per topic. */
export type SqsMode = 'fanout' | 'queue';

/**
 * `maxReceiveCount` of the redrive-policy backstop is `maxAttempts` plus this: SQS counts receives
 * core never handles (a receive aborted at stop, FIFO releases, count-bumping peeks of the source),
 * so the backstop must stay clear of core's own dead-lettering.
 */
export const RECEIVE_COUNT_MARGIN = 10;

/** SQS `maxReceiveCount` accepts 1–1,000 (SQS Developer Guide, "Configuring a dead-letter queue"). */
const MAX_RECEIVE_COUNT = 1_000;

/** SQS `DelaySeconds`: 0–900 (SQS API reference, SendMessage). */
export const MAX_DELAY_SECONDS = 900;

/** Visibility timeout: at most 12 h from the first receive (SQS API reference, ChangeMessageVisibility). */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** SQS and SNS batch calls take 10 entries (SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch, PublishBatch). */
export const BATCH_ENTRIES = 10;

/**
 * SNS takes 256 KiB per message and per PublishBatch request unless the topic opts in to more
 * (SNS `MaximumMessageSize` topic attribute); SQS queues created here keep their default (1 MiB
 * since Aug 2025, read per queue). Omnibus declares the portable 256 KiB in every mode.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** The capabilities of one connection: FIFO and mode are connection settings, so they are fixed data here. */
export function capabilitiesFor(mode: SqsMode, fifo: boolean): Capabilities {
  return {
    fanout: mode === 'fanout',
    // FIFO: MessageGroupId = orderingKey, one group in flight at a time per queue.
    ordering: fifo,
    // Queue mode: DelaySeconds. Fan-out: SNS has no delay, so the adapter carries a not-before time
    // and the first receive moves the message to a delayed copy in the subscription's own queue.
    // FIFO queues have no per-message delay.
    delayedDelivery: fifo ? false : MAX_DELAY_SECONDS * 1000,
    nackDelayMaxMs: MAX_VISIBILITY_SECONDS * 1000,
    nativeDeadLetter: { minAttempts: 1, maxAttempts: MAX_RECEIVE_COUNT - RECEIVE_COUNT_MARGIN },
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxBatchSize: BATCH_ENTRIES,
    batch: {
      publish: { maxMessages: BATCH_ENTRIES, maxBytes: MAX_MESSAGE_BYTES },
      settle: { maxMessages: BATCH_ENTRIES },
    },
    // ApproximateReceiveCount (plus the adapter's offset on copies it re-sends): it can run ahead
    // under concurrent receives, and FIFO releases count.
    attempts: 'approximate',
    ackConfirmed: true,
    // ApproximateNumberOfMessages(NotVisible) of the queue and of its DLQ queue: SQS's own
    // estimates, eventually consistent, so declared approximate and never shown as exact.
    stats: { waiting: 'approximate', inFlight: 'approximate', deadLettered: 'approximate' },
    deadLetterAdmin: { peek: 'count-bumping', count: 'approximate', redrive: 'subscription' },
    // Visibility timeout 0 s – 12 h; core keeps to its portable 10–600 s.
    ackDeadline: { minMs: 1_000, maxMs: MAX_VISIBILITY_SECONDS * 1000 },
    leaseExtension: 'native',
    maxNameLength: MAX_NAME_LENGTH,
  };
}
