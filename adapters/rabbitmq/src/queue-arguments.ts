// The arguments of every queue the adapter declares: quorum queues, the delivery-limit backstop, DLQs, delay buckets.
import type { SubscriptionRef } from '@omnibus/core/driver';
import { deadLetterExchange, deadLetterRoutingKey } from './broker-names.js';

/** Queue arguments every queue of ours shares: replicated, crash-safe quorum queues. */
const QUORUM = { 'x-queue-type': 'quorum' } as const;

/**
 * At-least-once dead-lettering keeps a message in the source queue until the target confirmed it,
 * so a broker crash mid-way can't lose it. RabbitMQ only allows it together with
 * `x-overflow: reject-publish`.
 */
const AT_LEAST_ONCE = {
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
} as const;

export interface SubscriptionQueueSettings extends SubscriptionRef {
  readonly deadLetter: boolean;
  readonly maxAttempts: number;
}

/**
 * How many deliveries beyond core's last chance the broker's own dead-lettering waits. Core
 * dead-letters a message, with the true reason, on its `maxAttempts`-th handled delivery or, at the
 * latest, on the delivery after it (lease expired: attempt maxAttempts + 1). The native
 * `x-delivery-limit` is only a backstop for consumers that keep dying before core can do that, and
 * a return the adapter couldn't compensate (a release whose channel died first) must not bring it
 * forward: so it sits this far above maxAttempts.
 */
export const DELIVERY_LIMIT_MARGIN = 10;

/**
 * Arguments of a subscription queue. With a DLQ, `x-delivery-limit` is the backstop for consumers
 * that crash before core can dead-letter explicitly: quorum queues dead-letter a message once it was
 * *returned* more than `limit` times, so `maxAttempts + DELIVERY_LIMIT_MARGIN` allows that many
 * deliveries plus one, and core always dead-letters first.
 */
export function subscriptionQueueArguments(
  settings: SubscriptionQueueSettings,
): Record<string, unknown> {
  if (!settings.deadLetter) return { ...QUORUM };
  const args: Record<string, unknown> = {
    ...QUORUM,
    ...AT_LEAST_ONCE,
    'x-dead-letter-exchange': deadLetterExchange(settings.topic),
    'x-dead-letter-routing-key': deadLetterRoutingKey(settings, settings.maxAttempts),
  };
  if (Number.isFinite(settings.maxAttempts))
    args['x-delivery-limit'] = settings.maxAttempts + DELIVERY_LIMIT_MARGIN;
  return args;
}

/**
 * The DLQ is a classic lazy queue, not a quorum queue: AMQP can only peek by `basic.get` and a
 * requeue, and a classic queue puts a requeued message back in its place while a quorum queue
 * appends it at the tail, which would reorder the DLQ on every peek. Lazy: dead letters pile up
 * and are rarely read, so they stay on disk instead of in memory.
 */
export function deadLetterQueueArguments(): Record<string, unknown> {
  return { 'x-queue-type': 'classic', 'x-queue-mode': 'lazy' };
}

/**
 * How long an unused delay queue survives. Publishing doesn't count as use for `x-expires`, so the
 * adapter re-declares a bucket before publishing to it whenever its last declaration is older than
 * half of the margin; a message therefore always expires (and moves on) before its queue could.
 */
export const DELAY_QUEUE_EXPIRY_MARGIN_MS = 10 * 60_000;

/** Arguments of a delay bucket: queue-wide TTL, dead-lettering to `target` when it expires. */
export function delayQueueArguments(
  bucketMs: number,
  target: { readonly exchange: string; readonly routingKey?: string },
): Record<string, unknown> {
  const args: Record<string, unknown> = {
    ...QUORUM,
    ...AT_LEAST_ONCE,
    'x-message-ttl': bucketMs,
    'x-expires': bucketMs + DELAY_QUEUE_EXPIRY_MARGIN_MS,
    'x-dead-letter-exchange': target.exchange,
  };
  if (target.routingKey !== undefined) args['x-dead-letter-routing-key'] = target.routingKey;
  return args;
}

/** What a queue argument means in Omnibus terms, for the error when a queue exists with other arguments. */
export const ARGUMENT_SETTINGS: Readonly<Record<string, string>> = {
  'x-delivery-limit': 'maxAttempts',
  'x-dead-letter-exchange': 'deadLetter',
  'x-dead-letter-routing-key':
    'maxAttempts or deadLetter: the dead-letter routing key carries maxAttempts',
  'x-dead-letter-strategy': 'deadLetter',
  'x-overflow': 'deadLetter',
  'x-queue-type': 'queue type (Omnibus uses quorum queues, and a classic queue for the DLQ)',
  'x-queue-mode': 'queue mode (Omnibus declares DLQs lazy)',
  'x-message-ttl': 'message TTL (not set by Omnibus)',
  'x-max-length': 'length limit (not set by Omnibus)',
  'x-single-active-consumer': 'single active consumer (not set by Omnibus)',
  durable: 'durability (Omnibus declares durable queues and exchanges)',
  type: 'exchange type (Omnibus declares topics as fanout exchanges)',
};
