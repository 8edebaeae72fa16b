// Delay buckets: one TTL queue per rounded delay, for delayed publishes (to the topic) and delayed nacks (to one subscription).
import type { SubscriptionRef } from '@omnibus/core/driver';
import { subscriptionDelayQueue, subscriptionQueue, topicDelayQueue } from './broker-names.js';
import { DELAY_QUEUE_EXPIRY_MARGIN_MS, delayQueueArguments } from './queue-arguments.js';
import type { Topology } from './topology.js';

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

/**
 * The delay buckets in use, declared on demand. A bucket's declaration is remembered with its time,
 * so it is declared again before `x-expires` could remove a queue still holding messages
 * (publishing doesn't count as use for `x-expires`).
 */
export class DelayQueues {
  /** Delay queues declared on the current connection, with when. */
  readonly #declared = new Map<string, number>();
  /** Every delay queue this driver declared, with whose it is (a subscription queue, or `topic:` and the topic). */
  readonly #owners = new Map<string, string>();

  constructor(
    private readonly topology: Topology,
    /** Significant digits of a bucket (`delayPrecisionDigits`). */
    private readonly digits: number,
  ) {}

  /** The bucket for a publish to `topic` due in `remainingMs`: it dead-letters to the topic's exchange, so every subscription gets the message. */
  async forTopic(topic: string, remainingMs: number): Promise<string> {
    const bucket = delayBucket(remainingMs, this.digits);
    const queue = topicDelayQueue(topic, bucket);
    await this.#ensure(queue, bucket, { exchange: topic }, `topic:${topic}`);
    return queue;
  }

  /** The bucket for a nack of `delayMs`: it dead-letters to this subscription's queue only, through the default exchange. */
  async forSubscription(ref: SubscriptionRef, delayMs: number): Promise<string> {
    const bucket = delayBucket(delayMs, this.digits);
    const queue = subscriptionDelayQueue(ref, bucket);
    const target = subscriptionQueue(ref);
    await this.#ensure(queue, bucket, { exchange: '', routingKey: target }, target);
    return queue;
  }

  /** Drops remembered declarations: one queue after a publish to it failed, or all after the connection was lost. */
  forget(queue?: string): void {
    if (queue === undefined) this.#declared.clear();
    else this.#declared.delete(queue);
  }

  /**
   * The delay buckets this driver declared for a subscription's nacks, or for a topic's publishes.
   * AMQP can't list queues: buckets other processes declared are not known here (they expire by
   * `x-expires` once unused).
   */
  declaredFor(
    target: { readonly subscription: SubscriptionRef } | { readonly topic: string },
  ): string[] {
    const owner =
      'subscription' in target ? subscriptionQueue(target.subscription) : `topic:${target.topic}`;
    return [...this.#owners].filter(([, of]) => of === owner).map(([queue]) => queue);
  }

  /** Forgets queues that were deleted. */
  deleted(queues: readonly string[]): void {
    for (const queue of queues) {
      this.#declared.delete(queue);
      this.#owners.delete(queue);
    }
  }

  async #ensure(
    queue: string,
    bucketMs: number,
    target: { exchange: string; routingKey?: string },
    owner: string,
  ): Promise<void> {
    const declaredAt = this.#declared.get(queue);
    if (declaredAt !== undefined && Date.now() - declaredAt < DELAY_QUEUE_EXPIRY_MARGIN_MS / 2)
      return;
    this.#owners.set(queue, owner);
    await this.topology.ensureQueue(queue, delayQueueArguments(bucketMs, target));
    this.#declared.set(queue, Date.now());
  }
}
