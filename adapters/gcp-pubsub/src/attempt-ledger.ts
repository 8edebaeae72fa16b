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

  /** Records one pulled delivery and returns its attempt. `deliveryAttempt` is the service's (0: none). */
  delivered(key: string, deliveryAttempt: number): number {
    const deliveries = (this.#deliveries.get(key) ?? 0) + 1;
    this.#remember(this.#deliveries, key, deliveries);
    const counted = deliveryAttempt > 0 ? deliveryAttempt : deliveries;
    return Math.max(1, counted - (this.#releases.get(key) ?? 0));
  }

  /** Records a release of the delivery, so the next one carries the same attempt. */
  released(key: string): void {
    this.#remember(this.#releases, key, (this.#releases.get(key) ?? 0) + 1);
  }

  /** Forgets a message that is settled for good (acked, dead-lettered). */
  settled(key: string): void {
    this.#deliveries.delete(key);
    this.#releases.delete(key);
  }

  #remember(map: Map<string, number>, key: string, value: number): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_ENTRIES) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}
