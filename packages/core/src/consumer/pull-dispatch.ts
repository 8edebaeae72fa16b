// Pull mode: holds admitted messages until `consumer.messages()` takes them; the caller settles each.
import type { ReceivedEnvelope } from '../message.js';
import type { Dispatch } from './dispatch.js';

/** Admitted messages in arrival order, for the iterator to take one at a time. */
export class PullDispatch<T> implements Dispatch<T> {
  readonly running = 0;
  private readonly ready: ReceivedEnvelope<T>[] = [];
  /** Index of the next message to take: a cursor rather than `shift()`, which is O(n). */
  private head = 0;
  private stopped = false;
  private waiter: (() => void) | undefined;

  deliver(message: ReceivedEnvelope<T>): void {
    this.ready.push(message);
    this.wake();
  }

  /** The next message for the iterator, or undefined once the loop stops and none is left. */
  async take(): Promise<ReceivedEnvelope<T> | undefined> {
    for (;;) {
      while (this.head < this.ready.length) {
        const message = this.ready[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.ready.length) {
          this.ready.splice(0, this.head);
          this.head = 0;
        }
        if (message.outcome === undefined) return message;
      }
      if (this.stopped) return undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  stopTaking(): void {
    this.stopped = true;
    this.wake();
  }

  withdrawUnstarted(): ReadonlySet<ReceivedEnvelope<T>> {
    const untaken = new Set<ReceivedEnvelope<T>>();
    for (let index = this.head; index < this.ready.length; index++) untaken.add(this.ready[index]!);
    this.head = this.ready.length;
    return untaken;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter();
    }
  }
}
