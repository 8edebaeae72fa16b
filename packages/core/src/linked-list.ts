// An intrusive doubly-linked list: the links live on the items, so adding and deleting allocate nothing.

/** What the list threads through: the links live on the item itself, not in a node of their own. */
export interface Linked<T> {
  /** The item before this one in its list; `undefined` for the head or outside any list. */
  previous: T | undefined;
  /** The item after this one in its list; `undefined` for the tail or outside any list. */
  next: T | undefined;
}

/**
 * A doubly-linked list in insertion order, with O(1) add, delete and membership: a `Set` does the
 * same, but hashes and allocates table space on every item. For per-message bookkeeping on hot
 * paths (core's unsettled messages, the memory adapter's deliveries in flight). An item is in at
 * most one list.
 */
export class LinkedList<T extends Linked<T>> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  /** Items in the list. */
  get size(): number {
    return this.count;
  }

  /** Whether `item` is in this list (an item is in at most one). */
  has(item: T): boolean {
    return item.previous !== undefined || this.head === item;
  }

  /** Appends `item`, which must be in no list. */
  add(item: T): void {
    item.previous = this.tail;
    item.next = undefined;
    if (this.tail === undefined) this.head = item;
    else this.tail.next = item;
    this.tail = item;
    this.count++;
  }

  /** Takes `item` out; false when it was not in the list. */
  delete(item: T): boolean {
    if (!this.has(item)) return false;
    const { previous, next } = item;
    if (previous === undefined) this.head = next;
    else previous.next = next;
    if (next === undefined) this.tail = previous;
    else next.previous = previous;
    item.previous = undefined;
    item.next = undefined;
    this.count--;
    return true;
  }

  /**
   * Oldest first. Only the item just yielded may be deleted meanwhile; items added meanwhile may or
   * may not be reached.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    let item = this.head;
    while (item !== undefined) {
      const next = item.next;
      yield item;
      item = next;
    }
  }
}
