// The name of every exchange, queue and routing key the adapter derives from topic and subscription names.
import { brokerName } from '@omnibus/core';
import type { SubscriptionRef } from '@omnibus/core/driver';

/**
 * Names of everything the adapter declares on the broker. Core limits topic and subscription names
 * (and the prefix) to letters, digits, `-` and `_`, so `.` is a safe separator: `brokerName()`
 * joins the parts readably, exactly as the adapter always named them, and shortens with a hash only
 * where a name would not fit (never with today's portable limits: 32 + 64 + 64 characters).
 *
 * | object | kind | name |
 * |---|---|---|
 * | topic | fanout exchange | `T` (the topic name itself) |
 * | subscription | quorum queue bound to `T` | `T.S` |
 * | dead-letter exchange (one per topic) | direct exchange | `T.dlx` |
 * | DLQ | classic lazy queue bound to `T.dlx` with key `T.S.max-attempts.N` | `T.S.dlq` |
 * | nack delay bucket | quorum queue, TTL, dead-letters to `T.S` via the default exchange | `T.S.delay.<ms>` |
 * | publish delay bucket | quorum queue, TTL, dead-letters to `T` | `T.delay.<ms>` |
 *
 * `T.S` is the base of the subscription's own names: the DLQ, the delay buckets and the
 * dead-letter routing key append a suffix to it, so they stay recognisable as one family even when
 * the base had to be hashed.
 */

/** RabbitMQ's limit on queue and exchange names and routing keys (AMQP short strings): 255 bytes. */
const AMQP_NAME_MAX_BYTES = 255;

/**
 * The longest suffix appended to a subscription's base name: `.max-attempts.1000` (18 bytes, for
 * core's largest maxAttempts) is longer than `.delay.2147483647` (17) and `.dlq` (4).
 */
const LONGEST_SUFFIX = '.max-attempts.1000';

/** The longest base name `brokerName()` may produce: every suffixed name then fits 255 bytes. */
export const MAX_NAME_LENGTH = AMQP_NAME_MAX_BYTES - LONGEST_SUFFIX.length;

/** The queue a subscription reads from: `T.S`, the base of its other names. */
export function subscriptionQueue(ref: SubscriptionRef): string {
  return brokerName([ref.topic, ref.subscription], MAX_NAME_LENGTH);
}

/** The topic's dead-letter exchange: `T.dlx`. */
export function deadLetterExchange(topic: string): string {
  return brokerName([topic, 'dlx'], MAX_NAME_LENGTH);
}

/** The subscription's DLQ: `T.S.dlq`. */
export function deadLetterQueue(ref: SubscriptionRef): string {
  return `${subscriptionQueue(ref)}.dlq`;
}

/**
 * Routing key of what the broker dead-letters from a subscription queue. It carries maxAttempts
 * because a message RabbitMQ dead-letters through `x-delivery-limit` records no delivery count, and
 * the DLQ message's routing key is the one place the broker keeps that lets `peek` tell its attempts.
 */
export function deadLetterRoutingKey(ref: SubscriptionRef, maxAttempts: number): string {
  const queue = subscriptionQueue(ref);
  return Number.isFinite(maxAttempts) ? `${queue}.max-attempts.${maxAttempts}` : queue;
}

/** The maxAttempts a native dead letter's routing key carries, if any. */
export function maxAttemptsFromRoutingKey(routingKey: string): number | undefined {
  const match = /\.max-attempts\.(\d+)$/.exec(routingKey);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A nack delay bucket of the subscription: `T.S.delay.<ms>`. */
export function subscriptionDelayQueue(ref: SubscriptionRef, bucketMs: number): string {
  return `${subscriptionQueue(ref)}.delay.${bucketMs}`;
}

/** A publish delay bucket of the topic: `T.delay.<ms>`. */
export function topicDelayQueue(topic: string, bucketMs: number): string {
  return brokerName([topic, 'delay', String(bucketMs)], MAX_NAME_LENGTH);
}
