// The user's `Message`: a received delivery that settles once, through its consumer loop.

import type { ReceivedMessage } from './driver.js';
import { INSPECT } from './inspect.js';
import type { Attributes, Message, Outcome } from './types.js';

/** How to settle a message: the outcome, and what the driver's nack or dead-letter request needs. */
export interface SettleRequest {
  readonly outcome: Outcome;
  /** Nack: redeliver no sooner than this. */
  readonly delayMs?: number | undefined;
  /** Dead letter: stored with it. */
  readonly reason?: string | undefined;
  /** Dead letter: the attempts recorded; the delivery's attempt when absent. */
  readonly attempts?: number | undefined;
  /**
   * No handler saw this delivery, or `message.release()` hands it back: it goes back through the
   * driver's `release` (not `nack`), which does not use up an attempt. The outcome a user sees is
   * `nacked` for core's own releases, `released` for `message.release()`.
   */
  readonly release?: boolean | undefined;
}

/**
 * The broker operation of a settle. An ack's is shared by every ack of its batch and resolves with
 * the handles whose ack did not land (see `AckBatcher`); the others reject on failure.
 */
export type SettleOperation = Promise<ReadonlyMap<unknown, Error> | undefined>;

/** An ack; shared, so acking allocates no request. */
export const ACK: SettleRequest = Object.freeze({ outcome: 'acked' });

/** Handing back a delivery no handler saw, for redelivery now. */
export const RELEASE: SettleRequest = Object.freeze({
  outcome: 'nacked',
  delayMs: 0,
  release: true,
});

/**
 * `message.release()`: through the driver's `release` like {@link RELEASE}, but with its own
 * outcome. Neither a nack nor a dead letter, so the loop neither checks it nor turns it into a
 * dead letter on the last attempt, and ordering releases the key's waiting messages behind it.
 */
const RELEASED_BY_USER: SettleRequest = Object.freeze({
  outcome: 'released',
  delayMs: 0,
  release: true,
});

/** What a message needs from the consumer loop that received it. */
export interface MessageOwner<T> {
  /**
   * Checks the first settle of `message` before anything changes, throwing `InvalidArgument` on bad
   * arguments, and returns the settle to carry out: on the last attempt, a nack the user asked for
   * becomes a dead letter, as there is no next attempt to give.
   */
  checkSettle(message: ReceivedEnvelope<T>, request: SettleRequest, byUser: boolean): SettleRequest;
  /** Starts the broker operation of a checked first settle. */
  startSettle(message: ReceivedEnvelope<T>, request: SettleRequest): SettleOperation;
  extendLease(message: ReceivedEnvelope<T>, ms: number): Promise<void>;
}

/**
 * A received message as core tracks it: the driver's message, its decoded body and its settle
 * state. The first settle decides the outcome; every later one is a no-op returning it.
 */
export class ReceivedEnvelope<T = unknown> implements Message<T> {
  readonly received: ReceivedMessage;
  /** Set once admission decoded (and validated) it, before any handler sees the message. */
  body: T;
  /** When the current lease ends (epoch ms), for automatic extension. */
  leaseExpiresAt: number;
  private readonly owner: MessageOwner<T>;
  private settledOutcome: Outcome | undefined;
  /** The broker operation of the first settle; later settles wait for it and return its outcome. */
  private settledBy: SettleOperation | undefined;
  private publishedDate: Date | undefined;
  /** Links in the receiving loop's list of unsettled messages (a `LinkedList`). */
  previous: ReceivedEnvelope<T> | undefined;
  next: ReceivedEnvelope<T> | undefined;

  constructor(owner: MessageOwner<T>, received: ReceivedMessage, leaseExpiresAt: number) {
    this.owner = owner;
    this.received = received;
    this.body = undefined as T;
    this.leaseExpiresAt = leaseExpiresAt;
    this.previous = undefined;
    this.next = undefined;
  }

  get id(): string {
    return this.received.id;
  }
  get attributes(): Readonly<Attributes> {
    return this.received.attributes;
  }
  get attempt(): number {
    return this.received.attempt;
  }
  get publishedAt(): Date {
    this.publishedDate ??= new Date(this.received.publishedAt);
    return this.publishedDate;
  }
  get orderingKey(): string | undefined {
    return this.received.orderingKey;
  }
  get native(): unknown {
    return this.received.native;
  }
  get outcome(): Outcome | undefined {
    return this.settledOutcome;
  }

  ack(): Promise<Outcome> {
    return this.settleByUser(ACK);
  }
  nack(options: { delayMs?: number } = {}): Promise<Outcome> {
    return this.settleByUser({ outcome: 'nacked', delayMs: options?.delayMs ?? 0 });
  }
  deadLetter(reason: string): Promise<Outcome> {
    return this.settleByUser({ outcome: 'dead-lettered', reason });
  }
  release(): Promise<Outcome> {
    return this.settleByUser(RELEASED_BY_USER);
  }
  extendLease(ms: number): Promise<void> {
    return this.owner.extendLease(this, ms);
  }

  /**
   * Settles once: the first call checks, records the outcome and starts the broker operation; a
   * later call returns that operation. Bad arguments throw before anything changes, so the message
   * can still be settled. `byUser`: the user asked for it (`ack()`, `nack()`, `deadLetter()`).
   */
  settle(request: SettleRequest, byUser: boolean): SettleOperation {
    if (this.settledBy !== undefined) return this.settledBy;
    const checked = this.owner.checkSettle(this, request, byUser);
    this.settledOutcome = checked.outcome;
    const operation = this.owner.startSettle(this, checked);
    this.settledBy = operation;
    return operation;
  }

  /** Bad arguments reject (never throw), so `.catch()` chains see them; the message stays unsettled. */
  private settleByUser(request: SettleRequest): Promise<Outcome> {
    let operation: SettleOperation;
    try {
      operation = this.settle(request, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return operation.then((failed) => {
      const error = failed?.get(this.received.handle);
      if (error !== undefined) throw error;
      return this.settledOutcome as Outcome;
    });
  }

  /** What `console.log(message)` shows: the same as its JSON, never the session behind it. */
  [INSPECT](): object {
    return this.toJSON();
  }

  toJSON(): object {
    return {
      id: this.id,
      body: this.body,
      attributes: this.attributes,
      attempt: this.attempt,
      outcome: this.outcome,
    };
  }
}
