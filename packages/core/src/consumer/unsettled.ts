// The loop's unsettled messages in arrival order: an intrusive list, so receiving and settling one allocate nothing.
import type { ReceivedEnvelope } from '../message.js';

/**
 * Every message received and not yet settled, oldest first, with O(1) add and delete. A `Set` does
 * the same, but hashes and grows a table on every message; here the links live on the envelope
 * itself (`previousUnsettled`, `nextUnsettled`), and a message is in at most one loop's list.
 */
export class UnsettledMessages<T> implements Iterable<ReceivedEnvelope<T>> {
  private head: ReceivedEnvelope<T> | undefined;
  private tail: ReceivedEnvelope<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(message: ReceivedEnvelope<T>): void {
    message.previousUnsettled = this.tail;
    message.nextUnsettled = undefined;
    if (this.tail === undefined) this.head = message;
    else this.tail.nextUnsettled = message;
    this.tail = message;
    this.count++;
  }

  /** Takes `message` out; a no-op when it is not in the list. */
  delete(message: ReceivedEnvelope<T>): void {
    const { previousUnsettled: previous, nextUnsettled: next } = message;
    if (previous === undefined && this.head !== message) return;
    if (previous === undefined) this.head = next;
    else previous.nextUnsettled = next;
    if (next === undefined) this.tail = previous;
    else next.previousUnsettled = previous;
    message.previousUnsettled = undefined;
    message.nextUnsettled = undefined;
    this.count--;
  }

  /** Oldest first; nothing may be added or deleted during the walk (copy it first to settle). */
  *[Symbol.iterator](): IterableIterator<ReceivedEnvelope<T>> {
    for (let message = this.head; message !== undefined; message = message.nextUnsettled)
      yield message;
  }
}
