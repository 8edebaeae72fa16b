import { OmnibusError, subscriptionNotFound } from '@omnibus/core';
import type {
  BatchResult,
  DriverStats,
  HeldDeadLetter,
  Linked,
  OutgoingMessage,
  ReceivedMessage,
  StoredDeadLetter,
  SubscriptionRef,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import { LinkedList } from '@omnibus/core/driver';
import { Deque } from './deque.js';

/**
 * A message as one subscription holds it: shared bytes and its count of deliveries. It may wait in
 * the ready queue for a long time, so what only a delivery needs lives on the delivery.
 */
export interface Entry {
  readonly id: string;
  readonly body: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly publishedAt: number;
  readonly orderingKey: string | undefined;
  readonly traceparent: string | undefined;
  /** Times it was redriven out of the DLQ (the WIRE `redrives` field). */
  readonly redrives: number;
  /** Deliveries so far. */
  attempt: number;
  /** The delivery out now: a settle with any other (its lease expired meanwhile) is ignored. */
  delivery: MemoryDelivery | undefined;
}

/**
 * One delivery of an entry, as core receives it, and its lease while in flight; it is also its own
 * settle handle. What never changes is read through from the entry; what a delivery fixes (its
 * attempt, its copy of raw bytes) is its own. It is allocated per message, so it stays one small
 * object rather than a copy of every field plus a handle object.
 */
export class MemoryDelivery implements ReceivedMessage, Linked<MemoryDelivery> {
  readonly entry: Entry;
  readonly attempt: number;
  readonly body: Uint8Array;
  /** The session holding it, so a closing connection releases what it held. */
  readonly session: object;
  leaseExpiresAt: number;
  previous: MemoryDelivery | undefined;
  next: MemoryDelivery | undefined;

  constructor(entry: Entry, session: object, leaseExpiresAt: number) {
    this.entry = entry;
    this.attempt = entry.attempt;
    // Raw bytes are copied per delivery, so a handler mutating them can't change other copies.
    this.body = entry.contentType === 'application/octet-stream' ? entry.body.slice() : entry.body;
    this.session = session;
    this.leaseExpiresAt = leaseExpiresAt;
    this.previous = undefined;
    this.next = undefined;
  }

  get id(): string {
    return this.entry.id;
  }
  get attributes(): Readonly<Record<string, string>> {
    return this.entry.attributes;
  }
  get contentType(): string | undefined {
    return this.entry.contentType;
  }
  get publishedAt(): number {
    return this.entry.publishedAt;
  }
  get orderingKey(): string | undefined {
    return this.entry.orderingKey;
  }
  get traceparent(): string | undefined {
    return this.entry.traceparent;
  }
  get redrives(): number {
    return this.entry.redrives;
  }
  get handle(): MemoryDelivery {
    return this;
  }
  get native(): Entry {
    return this.entry;
  }
}

interface Waiter {
  readonly max: number;
  readonly session: object;
  readonly leaseMs: number;
  readonly resolve: (messages: ReceivedMessage[]) => void;
}

interface DeadLetterEntry {
  /** Position in the DLQ, increasing: what a cursor browses by. */
  readonly position: number;
  readonly entry: Entry;
  readonly attempts: number;
  readonly reason: string;
  readonly deadLetteredAt: number;
}

/**
 * One subscription: a ready queue, leases, delayed messages, a DLQ and, when the subscription was
 * created with `ordering`, a backlog per ordering key so that only one message of a key is
 * outstanding at a time (as Pub/Sub does).
 */
export class SubscriptionState {
  readonly spec: SubscriptionSpec;
  private readonly broker: MemoryBroker;
  private readonly ready = new Deque<Entry>();
  private readonly inFlight = new LinkedList<MemoryDelivery>();
  private readonly delayed = new Map<
    Entry,
    { timer: ReturnType<typeof setTimeout>; dueAt: number }
  >();
  /**
   * The DLQ by position, oldest first: a Map so that a cursor can take letters out of the middle,
   * and its live iterator carries on past deletions and sees letters added after it started.
   */
  private readonly deadLetters = new Map<number, DeadLetterEntry>();
  private nextPosition = 1;
  /** Set by deleteSubscription: consumers still attached get NotFound, settles do nothing. */
  private deleted = false;
  /** Keys with a message outstanding → later messages of that key, in send order. */
  private readonly keyBacklog = new Map<string, Deque<Entry>>();
  private waiters: Waiter[] = [];
  private leaseTimer: ReturnType<typeof setTimeout> | undefined;
  private leaseTimerAt = Number.POSITIVE_INFINITY;
  /** Open consuming sessions; `isIdle` only looks at subscriptions somebody consumes. */
  sessions = 0;

  constructor(broker: MemoryBroker, spec: SubscriptionSpec) {
    this.broker = broker;
    this.spec = spec;
  }

  // ---- entering ------------------------------------------------------------------------------

  /** A new message (publish or redrive): waits behind its key if the key is outstanding. */
  enqueue(entry: Entry, delayMs: number | undefined): void {
    if (delayMs !== undefined && delayMs > 0) {
      this.schedule(entry, delayMs, () => this.admit(entry));
      return;
    }
    this.admit(entry);
  }

  private admit(entry: Entry): void {
    const key = entry.orderingKey;
    if (key !== undefined && this.spec.ordering) {
      const backlog = this.keyBacklog.get(key);
      if (backlog !== undefined) {
        backlog.push(entry);
        return;
      }
      this.keyBacklog.set(key, new Deque<Entry>(4));
    }
    this.ready.push(entry);
    this.serveWaiters();
  }

  /** The outstanding message of its key is back (nack, lease expiry): it keeps the key. */
  private requeue(entry: Entry, delayMs: number): void {
    if (delayMs > 0) {
      this.schedule(entry, delayMs, () => {
        this.ready.unshift(entry);
        this.serveWaiters();
      });
      return;
    }
    this.ready.unshift(entry);
    this.serveWaiters();
  }

  private schedule(entry: Entry, delayMs: number, due: () => void): void {
    const timer = setTimeout(() => {
      this.delayed.delete(entry);
      due();
      this.broker.changed();
    }, delayMs);
    this.delayed.set(entry, { timer, dueAt: Date.now() + delayMs });
  }

  /** The outstanding message of a key is gone for good: the key's next message may go. */
  private nextOfKey(entry: Entry): void {
    const key = entry.orderingKey;
    if (key === undefined || !this.spec.ordering) return;
    const backlog = this.keyBacklog.get(key);
    const next = backlog?.shift();
    if (next === undefined) {
      this.keyBacklog.delete(key);
      return;
    }
    this.ready.push(next);
    this.serveWaiters();
  }

  // ---- delivering ----------------------------------------------------------------------------

  receive(
    max: number,
    session: object,
    leaseMs: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    if (this.deleted) return Promise.reject(subscriptionNotFound(this.spec, 'memory'));
    if (this.ready.length > 0) return Promise.resolve(this.take(max, session, leaseMs));
    if (signal.aborted) return Promise.resolve([]);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max,
        session,
        leaseMs,
        resolve: (messages) => {
          signal.removeEventListener('abort', onAbort);
          resolve(messages);
        },
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve([]);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.ready.length > 0) {
      const waiter = this.waiters.shift()!;
      waiter.resolve(this.take(waiter.max, waiter.session, waiter.leaseMs));
    }
  }

  private take(max: number, session: object, leaseMs: number): ReceivedMessage[] {
    const now = Date.now();
    const leaseExpiresAt = now + leaseMs;
    const count = Math.min(max, this.ready.length);
    const messages: ReceivedMessage[] = new Array(count);
    for (let index = 0; index < count; index++) {
      const entry = this.ready.shift()!;
      entry.attempt++;
      const delivery = new MemoryDelivery(entry, session, leaseExpiresAt);
      entry.delivery = delivery;
      this.inFlight.add(delivery);
      messages[index] = delivery;
    }
    this.armLeaseTimer(leaseExpiresAt);
    this.broker.changed();
    return messages;
  }

  /** The delivery a handle is, while still out; undefined once its lease expired and it moved on. */
  private current(handle: unknown): MemoryDelivery | undefined {
    const delivery = handle as MemoryDelivery;
    return delivery.entry.delivery === delivery ? delivery : undefined;
  }

  /** The delivery is over (settled, expired, its session gone): its entry is no longer out. */
  private end(delivery: MemoryDelivery): Entry {
    this.inFlight.delete(delivery);
    delivery.entry.delivery = undefined;
    return delivery.entry;
  }

  ack(handles: readonly unknown[]): void {
    for (const handle of handles) {
      const delivery = this.current(handle);
      if (delivery !== undefined) this.nextOfKey(this.end(delivery));
    }
    this.broker.changed();
  }

  /** The attempt ended: redelivered after `delayMs`, and the next delivery counts. */
  nack(handle: unknown, delayMs: number): void {
    this.handBack(handle, delayMs, false);
  }

  /** No handler saw this delivery: redelivered now, and the next delivery carries the same attempt. */
  release(handle: unknown): void {
    this.handBack(handle, 0, true);
  }

  private handBack(handle: unknown, delayMs: number, uncount: boolean): void {
    const delivery = this.current(handle);
    if (delivery === undefined) return;
    const entry = this.end(delivery);
    if (uncount) entry.attempt--;
    this.requeue(entry, delayMs);
    this.broker.changed();
  }

  extendLease(handle: unknown, leaseMs: number): void {
    const delivery = this.current(handle);
    if (delivery !== undefined) delivery.leaseExpiresAt = Date.now() + leaseMs;
  }

  deadLetter(handle: unknown, reason: string, attempts: number): void {
    const delivery = this.current(handle);
    if (delivery === undefined) return;
    const entry = this.end(delivery);
    const position = this.nextPosition++;
    this.deadLetters.set(position, {
      position,
      entry,
      attempts,
      reason,
      deadLetteredAt: Date.now(),
    });
    this.nextOfKey(entry);
    this.broker.changed();
  }

  /** A session went away: whatever it still held is redelivered at once (a dropped connection). */
  closeSession(session: object): void {
    const waiting = this.waiters.filter((waiter) => waiter.session === session);
    this.waiters = this.waiters.filter((waiter) => waiter.session !== session);
    for (const waiter of waiting) waiter.resolve([]);
    for (const delivery of this.inFlight) {
      if (delivery.session === session) this.requeue(this.end(delivery), 0);
    }
    this.broker.changed();
  }

  // ---- leases --------------------------------------------------------------------------------

  /**
   * One timer per subscription, armed for the earliest possible expiry; when it fires it sweeps the
   * in-flight list once. A timer per message would cost more than the rest of a delivery. It is not
   * cleared when the last delivery settles: a consumer empties the list after every batch, and
   * setting and clearing a timer each time cost more than one sweep of an empty list per lease.
   */
  private armLeaseTimer(at: number): void {
    if (this.leaseTimer !== undefined && this.leaseTimerAt <= at) return;
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    this.leaseTimerAt = at;
    this.leaseTimer = setTimeout(() => this.sweepLeases(), Math.max(0, at - Date.now()));
    // Leases alone don't keep a process alive; delayed messages (ref'd timers) do.
    this.leaseTimer.unref?.();
  }

  private sweepLeases(): void {
    this.leaseTimer = undefined;
    this.leaseTimerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let earliest = Number.POSITIVE_INFINITY;
    let expired = false;
    for (const delivery of this.inFlight) {
      if (delivery.leaseExpiresAt <= now) {
        this.requeue(this.end(delivery), 0);
        expired = true;
      } else if (delivery.leaseExpiresAt < earliest) {
        earliest = delivery.leaseExpiresAt;
      }
    }
    if (earliest !== Number.POSITIVE_INFINITY) this.armLeaseTimer(earliest);
    if (expired) this.broker.changed();
  }

  // ---- observing and the DLQ -----------------------------------------------------------------

  isIdle(now: number): boolean {
    if (this.ready.length > 0 || this.inFlight.size > 0) return false;
    for (const { dueAt } of this.delayed.values()) if (dueAt <= now) return false;
    return true;
  }

  stats(): DriverStats {
    return {
      waiting: this.ready.length,
      inFlight: this.inFlight.size,
      deadLettered: this.deadLetters.size,
    };
  }

  peekDeadLetters(limit: number): StoredDeadLetter[] {
    const letters: StoredDeadLetter[] = [];
    for (const letter of this.deadLetters.values()) {
      if (letters.length >= limit) break;
      letters.push(toStored(letter));
    }
    return letters;
  }

  countDeadLetters(): number {
    return this.deadLetters.size;
  }

  redrive(limit: number): number {
    let moved = 0;
    // Nothing can be dead-lettered while this synchronous loop runs: it moves what was there.
    for (const letter of this.deadLetters.values()) {
      if (moved >= limit) break;
      this.redriveLetter(letter);
      moved++;
    }
    if (moved > 0) this.broker.changed();
    return moved;
  }

  /** Back to the subscription as a new message: same id, attempts from 1, one more redrive. */
  private redriveLetter(letter: DeadLetterEntry): void {
    this.deadLetters.delete(letter.position);
    const { entry } = letter;
    this.enqueue(
      {
        ...entry,
        redrives: entry.redrives + 1,
        attempt: 0,
        delivery: undefined,
      },
      undefined,
    );
  }

  purge(): number {
    const count = this.deadLetters.size;
    this.deadLetters.clear();
    this.broker.changed();
    return count;
  }

  /** A browse of the DLQ by position, for the driver's DeadLetterCursor. */
  openDeadLetters(): MemoryDeadLetterCursor {
    if (this.deleted) throw subscriptionNotFound(this.spec, 'memory');
    return new MemoryDeadLetterCursor(this, this.deadLetters.values());
  }

  /**
   * Settles held letters: each is redriven or discarded if it is still in the DLQ, else reported
   * failed (`NotFound`: another cursor or a purge took it meanwhile).
   */
  settleHeld(letters: readonly HeldDeadLetter[], redrive: boolean): BatchResult | undefined {
    const failed: { index: number; error: unknown }[] = [];
    letters.forEach((held, index) => {
      const letter = (held.handle as DeadLetterEntry | undefined) ?? undefined;
      if (
        this.deleted ||
        letter === undefined ||
        this.deadLetters.get(letter.position) !== letter
      ) {
        failed.push({
          index,
          error: new OmnibusError(
            'NotFound',
            `dead letter ${held.id} is no longer in the DLQ of subscription "${this.spec.subscription}"`,
            { driver: 'memory' },
          ),
        });
        return;
      }
      if (redrive) this.redriveLetter(letter);
      else this.deadLetters.delete(letter.position);
    });
    this.broker.changed();
    return failed.length === 0 ? undefined : { failed };
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** deleteSubscription: everything it held goes, and whoever still holds this state finds out. */
  delete(): void {
    this.deleted = true;
    this.ready.clear();
    for (const delivery of this.inFlight) this.end(delivery);
    this.keyBacklog.clear();
    this.deadLetters.clear();
    this.dispose();
  }

  dispose(): void {
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters) waiter.resolve([]);
    this.waiters = [];
  }
}

function toStored(letter: DeadLetterEntry): StoredDeadLetter {
  const { entry } = letter;
  return {
    id: entry.id,
    body: entry.body,
    attributes: entry.attributes,
    contentType: entry.contentType,
    publishedAt: entry.publishedAt,
    orderingKey: entry.orderingKey,
    attempts: letter.attempts,
    reason: letter.reason,
    deadLetteredAt: letter.deadLetteredAt,
    redrives: entry.redrives,
    native: letter,
  };
}

/**
 * One pass over a subscription's DLQ, oldest first, on a live iterator of its map: letters taken
 * out meanwhile are skipped, letters added meanwhile come last. Browsing holds nothing, so closing
 * has nothing to hand back.
 */
export class MemoryDeadLetterCursor {
  private readonly state: SubscriptionState;
  private readonly letters: Iterator<DeadLetterEntry>;
  private closed = false;

  constructor(state: SubscriptionState, letters: Iterator<DeadLetterEntry>) {
    this.state = state;
    this.letters = letters;
  }

  next(maxMessages: number): HeldDeadLetter[] {
    if (this.state.isDeleted) throw subscriptionNotFound(this.state.spec, 'memory');
    if (this.closed)
      throw new OmnibusError('Closed', 'this dead-letter cursor is closed', { driver: 'memory' });
    const page: HeldDeadLetter[] = [];
    while (page.length < maxMessages) {
      const next = this.letters.next();
      if (next.done === true) break;
      page.push({ ...toStored(next.value), handle: next.value });
    }
    return page;
  }

  close(): void {
    this.closed = true;
  }
}

/** A broker: topics and their subscriptions, shared by every driver connected to it. */
export class MemoryBroker {
  readonly topics = new Map<string, Map<string, SubscriptionState>>();
  private readonly listeners = new Set<() => void>();

  ensureTopic(topic: string): Map<string, SubscriptionState> {
    let subscriptions = this.topics.get(topic);
    if (subscriptions === undefined) {
      subscriptions = new Map();
      this.topics.set(topic, subscriptions);
    }
    return subscriptions;
  }

  ensureSubscription(spec: SubscriptionSpec): SubscriptionState {
    const subscriptions = this.ensureTopic(spec.topic);
    let state = subscriptions.get(spec.subscription);
    if (state === undefined) {
      state = new SubscriptionState(this, spec);
      subscriptions.set(spec.subscription, state);
      return state;
    }
    // Another bus on this broker created it: its dead-letter settings and ordering hold, as on a real broker.
    for (const setting of ['deadLetter', 'maxAttempts', 'ordering'] as const) {
      if (state.spec[setting] !== spec[setting]) {
        throw new OmnibusError(
          'AlreadyExists',
          `subscription "${spec.subscription}" on topic "${spec.topic}" already exists with ${setting} ${String(state.spec[setting])}; asked for ${String(spec[setting])}`,
          { driver: 'memory' },
        );
      }
    }
    return state;
  }

  subscription(ref: SubscriptionRef): SubscriptionState | undefined {
    return this.topics.get(ref.topic)?.get(ref.subscription);
  }

  /** Drops the subscription with its queue and DLQ; false when there was none. */
  deleteSubscription(ref: SubscriptionRef): boolean {
    const subscriptions = this.topics.get(ref.topic);
    const state = subscriptions?.get(ref.subscription);
    if (subscriptions === undefined || state === undefined) return false;
    subscriptions.delete(ref.subscription);
    state.delete();
    this.changed();
    return true;
  }

  /**
   * Drops the topic; false when there was none. Subscriptions live inside their topic here, as in
   * Redis streams, so memory keeps Redis's rule (the strictest): not while any exists.
   */
  deleteTopic(topic: string): boolean {
    const subscriptions = this.topics.get(topic);
    if (subscriptions === undefined) return false;
    if (subscriptions.size > 0) {
      throw new OmnibusError(
        'InvalidArgument',
        `topic "${topic}" still has subscriptions (${[...subscriptions.keys()].map((name) => `"${name}"`).join(', ')}): delete them first`,
        { driver: 'memory' },
      );
    }
    this.topics.delete(topic);
    this.changed();
    return true;
  }

  publish(topic: string, messages: readonly OutgoingMessage[]): void {
    const subscriptions = this.ensureTopic(topic);
    for (const message of messages) {
      for (const state of subscriptions.values()) {
        state.enqueue(
          {
            id: message.id,
            body: message.body,
            attributes: message.attributes,
            contentType: message.contentType,
            publishedAt: message.publishedAt,
            orderingKey: message.orderingKey,
            traceparent: message.traceparent,
            redrives: 0,
            attempt: 0,
            delivery: undefined,
          },
          message.delayMs,
        );
      }
    }
    this.changed();
  }

  isIdle(): boolean {
    const now = Date.now();
    for (const subscriptions of this.topics.values()) {
      for (const state of subscriptions.values()) {
        if (state.sessions > 0 && !state.isIdle(now)) return false;
      }
    }
    return true;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) listener();
  }

  dispose(): void {
    for (const subscriptions of this.topics.values())
      for (const state of subscriptions.values()) state.dispose();
    this.topics.clear();
  }
}
