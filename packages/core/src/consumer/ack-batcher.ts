// Ack batching: acks settled in the same tick go to the broker as one call, retried within the budget.
import { budget, withRetries } from '../backoff.js';
import type { DriverSubscription, DriverV1 } from '../driver.js';
import { toOmnibusError } from '../errors.js';

/**
 * Collects the handles of the acks settled in one tick and sends them in one `ack()` call, tried
 * again while retryable within `operationTimeoutMs`. Every ack of a batch shares its operation.
 */
export class AckBatcher {
  private readonly driver: DriverV1;
  private readonly subscription: DriverSubscription;
  private readonly operationTimeoutMs: number;
  /** Registers a batch's operation with the loop, which reports its failure. */
  private readonly track: (operation: Promise<unknown>) => Promise<unknown>;
  private handles: unknown[] = [];
  private flushing: Promise<unknown> | undefined;

  constructor(
    driver: DriverV1,
    subscription: DriverSubscription,
    operationTimeoutMs: number,
    track: (operation: Promise<unknown>) => Promise<unknown>,
  ) {
    this.driver = driver;
    this.subscription = subscription;
    this.operationTimeoutMs = operationTimeoutMs;
    this.track = track;
  }

  /** Queues one ack; resolves (or rejects) with the batch it joined. */
  add(handle: unknown): Promise<unknown> {
    this.handles.push(handle);
    this.flushing ??= this.track(Promise.resolve().then(() => this.flush()));
    return this.flushing;
  }

  private flush(): Promise<void> {
    const batch = this.handles;
    this.handles = [];
    this.flushing = undefined;
    return withRetries(
      () => this.subscription.ack(batch),
      (error) => toOmnibusError(error, this.driver, `ack of ${batch.length} message(s) failed`),
      budget(this.operationTimeoutMs),
    );
  }
}
