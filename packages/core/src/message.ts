import type { ReceivedMessage } from './driver.js';
import type { Attributes, Message, Outcome } from './types.js';

/** What a message needs from the session that received it. */
export interface MessageOwner {
  settle(
    message: ReceivedEnvelope,
    outcome: Outcome,
    detail: { delayMs?: number; reason?: string },
  ): Promise<Outcome>;
  extendLease(message: ReceivedEnvelope, ms: number): Promise<void>;
}

/**
 * A received message as core tracks it: the driver's message, its decoded body, and the settle
 * state that makes every settle after the first a no-op returning the first outcome.
 */
export class ReceivedEnvelope<T = unknown> implements Message<T> {
  readonly received: ReceivedMessage;
  body: T;
  /** When the current lease ends (epoch ms), for automatic extension. */
  leaseExpiresAt: number;
  /** The broker operation of the first settle; later settles wait for it and return its outcome. */
  settledBy: Promise<unknown> | undefined;
  outcome: Outcome | undefined;
  private readonly owner: MessageOwner;
  private publishedDate: Date | undefined;

  constructor(owner: MessageOwner, received: ReceivedMessage, leaseExpiresAt: number) {
    this.owner = owner;
    this.received = received;
    this.body = undefined as T;
    this.leaseExpiresAt = leaseExpiresAt;
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

  ack(): Promise<Outcome> {
    return this.settle('acked', {});
  }
  nack(options: { delayMs?: number } = {}): Promise<Outcome> {
    return this.settle('nacked', { delayMs: options?.delayMs ?? 0 });
  }
  deadLetter(reason: string): Promise<Outcome> {
    return this.settle('dead-lettered', { reason });
  }
  extendLease(ms: number): Promise<void> {
    return this.owner.extendLease(this, ms);
  }

  /** Bad arguments reject (never throw), so `.catch()` chains see them; the message stays unsettled. */
  private settle(
    outcome: Outcome,
    detail: { delayMs?: number; reason?: string },
  ): Promise<Outcome> {
    try {
      return this.owner.settle(this, outcome, detail);
    } catch (error) {
      return Promise.reject(error);
    }
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
