// What this process knows about a message's deliveries: its own pull count and the releases it made.

/** Most messages the ledger remembers; past it the oldest entries go (their counts then start over). */
const MAX_ENTRIES = 100_000;

/**
 * Attempts on Pub/Sub come from `deliveryAttempt` where the subscription has a dead-letter policy,
 * which counts every delivery, releases included (`modifyAckDeadline(0)` is a nack to the service).
 * Without a policy there is no count at all. So the driver keeps, per subscription and Pub/Sub
 * message id (a redriven copy has a new one, so its count restarts):
 * - the deliveries this process pulled, the count where the service gives none;
 * - the releases this process made, taken off either count, so a release is not an attempt here.
 * Another process sees neither, which is why `capabilities.attempts` is `approximate`.
 */
export class AttemptLedger {
  readonly #deliveries = new Map<string, number>();
  readonly #releases = new Map<string, number>();
  /** Messages this process acked, for the redeliveries of acked messages ordered keys bring. */
  readonly #acked = new Map<string, true>();

  /** The ack id of the latest delivery of each message, so a stale handle's ack isn't taken for the message's. */
  readonly #latestAckIds = new Map<string, string>();

  /** Records one pulled delivery and returns its attempt. `deliveryAttempt` is the service's (0: none). */
  delivered(key: string, ackId: string, deliveryAttempt: number): number {
    this.#remember(this.#latestAckIds, key, ackId);
    const deliveries = (this.#deliveries.get(key) ?? 0) + 1;
    this.#remember(this.#deliveries, key, deliveries);
    const counted = deliveryAttempt > 0 ? deliveryAttempt : deliveries;
    return Math.max(1, counted - (this.#releases.get(key) ?? 0));
  }

  /** Records a release of the delivery, so the next one carries the same attempt. */
  released(key: string): void {
    this.#remember(this.#releases, key, (this.#releases.get(key) ?? 0) + 1);
  }

  /** Forgets the counts of a message that is settled for good (acked, dead-lettered), and remembers it was. */
  settled(key: string, ackId: string): void {
    // The ack of an earlier delivery (a stale handle) is ignored by the service: so here too.
    if (this.#latestAckIds.get(key) !== ackId) return;
    this.#deliveries.delete(key);
    this.#releases.delete(key);
    this.#latestAckIds.delete(key);
    this.#remember(this.#acked, key, true);
  }

  /**
   * Whether this process already settled the message for good. On an ordered subscription the
   * service redelivers every later message of a key after one is redelivered, acked ones included
   * (https://cloud.google.com/pubsub/docs/ordering), and the emulator does so for messages without
   * a key too: such a copy is acked again, never handed to a handler twice by this process.
   */
  isSettled(key: string): boolean {
    return this.#acked.has(key);
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_ENTRIES) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}
