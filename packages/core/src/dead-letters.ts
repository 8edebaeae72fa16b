// The portable DLQ admin (count, peek, redrive, purge, select) over one subscription's driver calls.

import { budget, withRetries } from './backoff.js';
import { toDeadLetter } from './dead-letter.js';
import {
  checkLimit,
  type DeadLetterQueue,
  DeadLetterSelectionImpl,
} from './dead-letter-selection.js';
import type { DriverV2, SubscriptionRef } from './driver.js';
import { toOmnibusError, UnsupportedError } from './errors.js';
import { INSPECT } from './inspect.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from './operation-timeout.js';
import type { DeadLetter, DeadLetterFilter, DeadLetterSelection, DeadLetters } from './types.js';

/** `bus.deadLetters(topic, subscription)`: each call bounded by `operationTimeoutMs`, retries included. */
export class DeadLettersImpl<T> implements DeadLetters<T> {
  private readonly driver: DriverV2;
  private readonly ref: SubscriptionRef;
  private readonly assertOpen: () => void;
  private readonly label: string;

  /** What `console.log(dlq)` shows: whose DLQ it is, never the bus's client. */
  [INSPECT](): string {
    return `DeadLetters { of: '${this.label}' }`;
  }

  toJSON(): object {
    return { of: this.label };
  }
  constructor(driver: DriverV2, ref: SubscriptionRef, label: string, assertOpen: () => void) {
    this.driver = driver;
    this.ref = ref;
    this.label = label;
    this.assertOpen = assertOpen;
  }

  /** `idempotent` calls are tried again within operationTimeoutMs; a redrive is not (it moves messages). */
  private async call<R>(
    what: string,
    operation: () => Promise<R>,
    idempotent: boolean,
  ): Promise<R> {
    this.assertOpen();
    const wrap = (error: unknown) =>
      toOmnibusError(error, this.driver, `${what} of the DLQ of ${this.label} failed`);
    if (idempotent) {
      return withRetries(
        operation,
        wrap,
        budget(this.driver.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS),
      );
    }
    try {
      return await operation();
    } catch (error) {
      throw wrap(error);
    }
  }

  count(): Promise<number> {
    return this.call('count', () => this.driver.countDeadLetters(this.ref), true);
  }

  async peek(limit = 10): Promise<DeadLetter<T>[]> {
    checkLimit(limit, 'peek(limit)');
    if (this.driver.capabilities.deadLetterAdmin.peek === 'none') {
      throw new UnsupportedError(
        `the ${this.driver.name} adapter can't peek at dead letters (capabilities.deadLetterAdmin.peek is "none")`,
        { driver: this.driver.name },
      );
    }
    const stored = await this.call(
      'peek',
      () => this.driver.peekDeadLetters(this.ref, limit),
      true,
    );
    return stored.map(toDeadLetter<T>);
  }

  redrive(options: { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    checkLimit(limit, 'redrive limit');
    return this.call('redrive', () => this.driver.redriveDeadLetters(this.ref, limit), false);
  }

  purge(): Promise<number | undefined> {
    return this.call('purge', () => this.driver.purgeDeadLetters(this.ref), true);
  }

  select(filter?: DeadLetterFilter): DeadLetterSelection<T> {
    const queue: DeadLetterQueue = {
      driver: this.driver,
      ref: this.ref,
      label: this.label,
      assertOpen: this.assertOpen,
    };
    return new DeadLetterSelectionImpl<T>(queue, filter);
  }
}
