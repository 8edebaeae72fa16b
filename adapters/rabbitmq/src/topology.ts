// Names and arguments of every exchange and queue the adapter declares.
/**
 * Names and arguments of everything the adapter declares on the broker. Topic and subscription
 * names are limited to letters, digits, `-` and `_` by core, so `.` is a safe separator and the
 * derived names below can never collide with each other or with another topic's.
 *
 * | object | kind | name |
 * |---|---|---|
 * | topic | fanout exchange | `T` |
 * | subscription | quorum queue bound to `T` | `T.S` |
 * | dead-letter exchange (one per topic) | direct exchange | `T.dlx` |
 * | DLQ | classic lazy queue bound to `T.dlx` with key `T.S.max-attempts.N` | `T.S.dlq` |
 * | nack delay bucket | quorum queue, TTL, dead-letters to `T.S` via the default exchange | `T.S.delay.<ms>` |
 * | publish delay bucket | quorum queue, TTL, dead-letters to `T` | `T.delay.<ms>` |
 */

/** The queue a subscription reads from. */
export function subscriptionQueue(topic: string, subscription: string): string {
  return `${topic}.${subscription}`;
}

export function deadLetterExchange(topic: string): string {
  return `${topic}.dlx`;
}

export function deadLetterQueue(topic: string, subscription: string): string {
  return `${topic}.${subscription}.dlq`;
}

/**
 * Routing key of what the broker dead-letters from a subscription queue. It carries maxAttempts
 * because a message RabbitMQ dead-letters through `x-delivery-limit` records no delivery count, and
 * the DLQ message's routing key is the one place the broker keeps that lets `peek` tell its attempts.
 */
export function deadLetterRoutingKey(
  topic: string,
  subscription: string,
  maxAttempts: number,
): string {
  const queue = subscriptionQueue(topic, subscription);
  return Number.isFinite(maxAttempts) ? `${queue}.max-attempts.${maxAttempts}` : queue;
}

/** The maxAttempts a native dead letter's routing key carries, if any. */
export function maxAttemptsFromRoutingKey(routingKey: string): number | undefined {
  const match = /\.max-attempts\.(\d+)$/.exec(routingKey);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function subscriptionDelayQueue(
  topic: string,
  subscription: string,
  bucketMs: number,
): string {
  return `${topic}.${subscription}.delay.${bucketMs}`;
}

export function topicDelayQueue(topic: string, bucketMs: number): string {
  return `${topic}.delay.${bucketMs}`;
}

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

export interface SubscriptionQueueSettings {
  readonly topic: string;
  readonly subscription: string;
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
    'x-dead-letter-routing-key': deadLetterRoutingKey(
      settings.topic,
      settings.subscription,
      settings.maxAttempts,
    ),
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

/**
 * Rounds a delay up to `significantDigits` significant digits (1,234 ms → 1,300 ms with 2 digits).
 *
 * Per-message TTL only expires at the head of a queue, so delays share a queue only when they share
 * a TTL: one queue per bucket. Rounding up keeps "not before" true and bounds both the extra wait
 * (under 10 % with 2 digits; the per-message `expiration` usually removes it) and the number of
 * queues (90 per decade of delay).
 */
export function delayBucket(delayMs: number, significantDigits: number): number {
  const ms = Math.max(1, Math.ceil(delayMs));
  const digits = Math.floor(Math.log10(ms)) + 1;
  if (digits <= significantDigits) return ms;
  const unit = 10 ** (digits - significantDigits);
  return Math.ceil(ms / unit) * unit;
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
