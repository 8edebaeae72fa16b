// What the Pub/Sub driver declares it can do, as data core and the conformance suite read.
import type { Capabilities } from '@omnibus/core/driver';
import { MAX_NAME_LENGTH } from './broker-names.js';
import { SERVICE_LIMITS } from './service-limits.js';

/** Most messages per publish and per settle call: Pub/Sub's 1,000 messages per publish request. */
const BATCH_MESSAGES = 1_000;

/**
 * Largest message Omnibus accepts: the service's 10 MB publish request less room for the
 * attributes Omnibus adds (id, publish time, content type, trace context, dead-letter metadata).
 */
export const MAX_MESSAGE_BYTES = SERVICE_LIMITS.requestBytes - 16_384;

/** What the Pub/Sub driver declares (`bus.capabilities`); the README's Capabilities table says why each. */
export const CAPABILITIES: Capabilities = {
  fanout: true,
  // Native: `orderingKey` on publish, `enableMessageOrdering` on the subscription.
  ordering: true,
  // Pub/Sub has no delayed publish (see the README: emulating it with a not-before attribute would
  // redeliver each delayed message once per 600 s hop, and every hop counts toward deliveryAttempt
  // and the dead-letter policy).
  delayedDelivery: false,
  // modifyAckDeadline takes 0–600 s (https://cloud.google.com/pubsub/docs/lease-management).
  nackDelayMaxMs: SERVICE_LIMITS.ackDeadlineMaxSeconds * 1_000,
  // The dead-letter policy's maxDeliveryAttempts takes 5–100
  // (https://cloud.google.com/pubsub/docs/handling-failures#dead_letter_topic).
  nativeDeadLetter: {
    minAttempts: SERVICE_LIMITS.minDeliveryAttempts,
    maxAttempts: SERVICE_LIMITS.maxDeliveryAttempts,
  },
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxBatchSize: BATCH_MESSAGES,
  batch: {
    publish: { maxMessages: BATCH_MESSAGES, maxBytes: MAX_MESSAGE_BYTES },
    settle: { maxMessages: BATCH_MESSAGES },
  },
  // deliveryAttempt where a dead-letter policy exists (Google documents it as best effort, and a
  // release counts in it: compensated in this process only), else counted in this process.
  attempts: 'approximate',
  // acknowledge is best effort without exactly-once delivery.
  ackConfirmed: false,
  // No backlog numbers outside Cloud Monitoring; dead letters counted by pulling the DLQ reader.
  stats: { waiting: false, inFlight: false, deadLettered: 'approximate' },
  // The DLQ is a subscription: peeking and counting are pulls; a redrive re-publishes to the topic.
  deadLetterAdmin: { peek: 'count-bumping', count: 'approximate', redrive: 'topic' },
  ackDeadline: {
    minMs: SERVICE_LIMITS.ackDeadlineMinSeconds * 1_000,
    maxMs: SERVICE_LIMITS.ackDeadlineMaxSeconds * 1_000,
  },
  leaseExtension: 'native',
  maxNameLength: MAX_NAME_LENGTH,
};
