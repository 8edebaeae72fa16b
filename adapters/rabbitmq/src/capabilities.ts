// What the RabbitMQ driver declares it can do, as data core and the conformance suite read.
import { PORTABLE_RULES } from '@omnibus/core';
import type { Capabilities } from '@omnibus/core/driver';
import { MAX_NAME_LENGTH } from './broker-names.js';

/** Longest delay: RabbitMQ's TTLs go to 2^32−1 ms, core's timers to 2^31−1 ms. */
export const MAX_DELAY_MS = 2_147_483_647;

/** RabbitMQ's `consumer_timeout` default (30 min): past it the broker closes the channel of an unacked delivery. */
const CONSUMER_TIMEOUT_MS = 1_800_000;

/**
 * Most entries per publish and per settle call. RabbitMQ caps neither (a batch is written in one
 * go and its confirms awaited together); 1,000 keeps one call's writes and confirm waits short.
 */
const BATCH_MESSAGES = 1_000;

export const CAPABILITIES: Capabilities = {
  fanout: true,
  ordering: false,
  // Through per-bucket TTL queues, for publishes and nacks alike; core caps both at its portable bounds.
  delayedDelivery: MAX_DELAY_MS,
  nackDelayMaxMs: MAX_DELAY_MS,
  // `x-delivery-limit` is set to maxAttempts + 10 (DELIVERY_LIMIT_MARGIN). RabbitMQ takes any
  // positive limit, so every maxAttempts core allows (1 to 1,000) gets the backstop.
  nativeDeadLetter: { minAttempts: 1, maxAttempts: PORTABLE_RULES.maxAttempts },
  // RabbitMQ takes up to 128 MiB (max_message_size), but Omnibus keeps the portable 256 KiB so
  // what passes here passes on every broker.
  maxMessageBytes: 256 * 1024,
  maxBatchSize: BATCH_MESSAGES,
  batch: {
    publish: { maxMessages: BATCH_MESSAGES },
    settle: { maxMessages: BATCH_MESSAGES },
  },
  // x-delivery-count of the quorum queue plus the adapter's `omnibus-attempts` header on copies
  // (delay queues, releases); see the README for the fault cases where a release can't be compensated.
  attempts: 'exact',
  // AMQP 0-9-1 has no reply to basic.ack: ack() resolves once the ack is written to the channel,
  // and a connection lost just after may redeliver an acked message.
  ackConfirmed: false,
  stats: { waiting: true, inFlight: false, deadLettered: true },
  // Peek: basic.get then requeue all, on a classic DLQ that puts them back in place.
  deadLetterAdmin: { peek: 'non-destructive', count: 'exact', redrive: 'subscription' },
  ackDeadline: { minMs: 1_000, maxMs: CONSUMER_TIMEOUT_MS },
  leaseExtension: 'none',
  maxNameLength: MAX_NAME_LENGTH,
};
