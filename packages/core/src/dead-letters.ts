import { decodeBody } from './codec.js';
import type { DriverV1, StoredDeadLetter, SubscriptionSpec } from './driver.js';
import { InvalidArgumentError, toOmnibusError } from './errors.js';
import type { DeadLetter, DeadLetters } from './types.js';

export class DeadLettersImpl<T> implements DeadLetters<T> {
  private readonly driver: DriverV1;
  private readonly spec: SubscriptionSpec;
  private readonly assertOpen: () => void;
  private readonly label: string;

  constructor(driver: DriverV1, spec: SubscriptionSpec, label: string, assertOpen: () => void) {
    this.driver = driver;
    this.spec = spec;
    this.label = label;
    this.assertOpen = assertOpen;
  }

  private async call<R>(what: string, operation: () => Promise<R>): Promise<R> {
    this.assertOpen();
    try {
      return await operation();
    } catch (error) {
      throw toOmnibusError(error, this.driver, `${what} of the DLQ of ${this.label} failed`);
    }
  }

  count(): Promise<number> {
    return this.call('count', () => this.driver.countDeadLetters(this.spec));
  }

  async peek(limit = 10): Promise<DeadLetter<T>[]> {
    checkLimit(limit, 'peek(limit)');
    const stored = await this.call('peek', () => this.driver.peekDeadLetters(this.spec, limit));
    return stored.map(toDeadLetter<T>);
  }

  redrive(options: { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    checkLimit(limit, 'redrive limit');
    return this.call('redrive', () => this.driver.redriveDeadLetters(this.spec, limit));
  }

  purge(): Promise<number | undefined> {
    return this.call('purge', () => this.driver.purgeDeadLetters(this.spec));
  }
}

function checkLimit(limit: unknown, name: string): void {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got ${String(limit)}`);
  }
}

function toDeadLetter<T>(stored: StoredDeadLetter): DeadLetter<T> {
  let body: T | Uint8Array;
  try {
    body = decodeBody(stored.body, stored.contentType) as T;
  } catch {
    // Undecodable bodies are often why the message is here: hand back the bytes.
    body = stored.body;
  }
  return {
    id: stored.id,
    body,
    attributes: stored.attributes,
    attempts: stored.attempts,
    reason: stored.reason,
    deadLetteredAt: new Date(stored.deadLetteredAt),
    publishedAt: new Date(stored.publishedAt),
    orderingKey: stored.orderingKey,
    native: stored.native,
  };
}
