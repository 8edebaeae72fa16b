// Ack batching: acks settled in the same tick go to the broker in as few calls as the driver's settle limit allows.
import { budget } from '../backoff.js';
import { callBatch, splitBatch } from '../batch-call.js';
import type { DriverSubscription, DriverV2 } from '../driver.js';
import { type OmnibusError, toOmnibusError } from '../errors.js';

/** The acks of one batch that did not land, by handle; `undefined` when every one did. */
export type AckFailures = ReadonlyMap<unknown, OmnibusError> | undefined;

/**
 * Collects the handles of the acks settled in one tick and sends them in `ack()` calls of at most
 * `capabilities.batch.settle` entries, each tried again while retryable within
 * `operationTimeoutMs` (a partly failed call with its failed entries alone). Every ack of a tick
 * shares one operation, which resolves with the handles that failed, so each message can tell
 * whether its own ack landed without a promise of its own.
 */
export class AckBatcher {
  private readonly driver: DriverV2;
  private readonly subscription: DriverSubscription;
  private readonly operationTimeoutMs: number;
  /** Registers a batch's operation with the loop, so `busy` sees it. */
  private readonly track: (operation: Promise<unknown>) => Promise<unknown>;
  /** Reports a failed ack (once per failed call). */
  private readonly report: (error: OmnibusError) => void;
  private handles: unknown[] = [];
  private flushing: Promise<AckFailures> | undefined;

  constructor(
    driver: DriverV2,
    subscription: DriverSubscription,
    operationTimeoutMs: number,
    track: (operation: Promise<unknown>) => Promise<unknown>,
    report: (error: OmnibusError) => void,
  ) {
    this.driver = driver;
    this.subscription = subscription;
    this.operationTimeoutMs = operationTimeoutMs;
    this.track = track;
    this.report = report;
  }

  /** Queues one ack; resolves with the failures of the batch it joined (look its handle up). */
  add(handle: unknown): Promise<AckFailures> {
    this.handles.push(handle);
    if (this.flushing === undefined) {
      const flushing = Promise.resolve().then(() => this.flush());
      this.flushing = flushing;
      this.track(flushing);
    }
    return this.flushing;
  }

  private async flush(): Promise<AckFailures> {
    const batch = this.handles;
    this.handles = [];
    this.flushing = undefined;
    const limit = this.driver.capabilities.batch.settle;
    const bounded = budget(this.operationTimeoutMs);
    let failures: Map<unknown, OmnibusError> | undefined;
    for (const chunk of splitBatch(batch, limit)) {
      let reported = false;
      await callBatch(
        chunk,
        (handles) => this.subscription.ack(handles),
        (error) => toOmnibusError(error, this.driver, `ack of ${chunk.length} message(s) failed`),
        bounded,
        (index, error) => {
          if (error === undefined) return;
          failures ??= new Map();
          failures.set(chunk[index], error);
          if (!reported) {
            reported = true;
            this.report(error);
          }
        },
      );
    }
    return failures;
  }
}
