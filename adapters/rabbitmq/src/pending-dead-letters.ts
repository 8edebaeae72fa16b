// Dead-lettering in progress per DLQ, so this driver's DLQ admin calls read its own dead letters whole.

/**
 * A dead letter is a copy published to the DLQ, confirmed, and then the original acked. The copy
 * is countable from the moment the broker enqueues it, which is before its confirm arrives: a
 * `count()` or `peek()` on the same driver could see it while the `deadLetter()` that wrote it is
 * still running (the original unacked). Admin calls wait for this driver's own dead-lettering to
 * the same DLQ first (each bounded by the publish's time bound), so they never see one half done.
 * Other processes' dead-lettering is not visible here: the broker gives no such order across them.
 */
export class PendingDeadLetters {
  readonly #pending = new Map<string, Set<Promise<unknown>>>();
  /** Dead-letterings started so far, per DLQ: a read compares it before and after. */
  readonly #started = new Map<string, number>();

  /** How many dead-letterings to `dlq` this driver has started. */
  started(dlq: string): number {
    return this.#started.get(dlq) ?? 0;
  }

  /**
   * Reads with `read` once this driver's dead-lettering to `dlq` has settled, and again (a few
   * times at most, so steady dead-lettering can't hold it) when more started during the read.
   */
  async read<T>(dlq: string, read: () => Promise<T>): Promise<T> {
    for (let round = 1; ; round++) {
      await this.settled(dlq);
      const mark = this.started(dlq);
      const value = await read();
      if (this.started(dlq) === mark || round === 3) return value;
    }
  }

  /** Records `work` (publish copies, then ack) as writing to `dlq` until it settles. */
  track<T>(dlq: string, work: Promise<T>): Promise<T> {
    this.#started.set(dlq, this.started(dlq) + 1);
    let writes = this.#pending.get(dlq);
    if (writes === undefined) {
      writes = new Set();
      this.#pending.set(dlq, writes);
    }
    const set = writes;
    set.add(work);
    const forget = () => {
      set.delete(work);
      if (set.size === 0 && this.#pending.get(dlq) === set) this.#pending.delete(dlq);
    };
    work.then(forget, forget);
    return work;
  }

  /** Resolves once the dead-lettering to `dlq` running now has settled (succeeded or not). */
  async settled(dlq: string): Promise<void> {
    const writes = this.#pending.get(dlq);
    if (writes !== undefined) await Promise.allSettled([...writes]);
  }
}
