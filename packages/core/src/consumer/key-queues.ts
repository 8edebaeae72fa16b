// Per-ordering-key queues: which message of a key runs next, and which are released behind one coming back.

/**
 * Messages sharing an ordering key run one at a time, in the order received. A key is present
 * while one of its messages runs; its queue holds the messages waiting behind that one.
 */
export class KeyQueues<M> {
  private readonly queues = new Map<string, M[]>();

  /** Whether `message` may run now; when another of its key runs, it waits behind it instead. */
  enter(key: string, message: M): boolean {
    const queue = this.queues.get(key);
    if (queue !== undefined) {
      queue.push(message);
      return false;
    }
    this.queues.set(key, []);
    return true;
  }

  /** The running message of `key` is done for good: the next to run, if any (else the key is free). */
  next(key: string): M | undefined {
    const queue = this.queues.get(key);
    if (queue === undefined) return undefined;
    const following = queue.shift();
    if (following === undefined) this.queues.delete(key);
    return following;
  }

  /**
   * The running message of `key` is coming back (nacked): running the ones behind it now would
   * overtake it, so they leave the queue, to be released; the key is free again.
   */
  releaseBehind(key: string): readonly M[] | undefined {
    const queue = this.queues.get(key);
    if (queue !== undefined) this.queues.delete(key);
    return queue;
  }

  /** Empties every queue, returning the messages that were waiting (none of them has run). */
  withdrawAll(): Set<M> {
    const waiting = new Set<M>();
    for (const queue of this.queues.values()) for (const message of queue) waiting.add(message);
    this.queues.clear();
    return waiting;
  }
}
