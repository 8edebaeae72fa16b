import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type Backoff, budget, pause, retryDelay, withRetries } from './backoff.js';
import { decodeBody } from './codec.js';
import {
  afterExplicitNack,
  afterHandlerFailure,
  expiredBeforeDelivery,
} from './dead-letter-policy.js';
import type { DriverSubscription, DriverV1, ReceivedMessage } from './driver.js';
import { InvalidArgumentError, OmnibusError, toOmnibusError } from './errors.js';
import { type MessageOwner, ReceivedEnvelope } from './message.js';
import { checkMilliseconds } from './rules.js';
import type { Tracing } from './trace.js';
import type { Handler, Outcome } from './types.js';

/** Resolved consumer settings a session runs with. */
export interface SessionSettings<T> {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly deadLetter: boolean;
  readonly ackDeadlineMs: number;
  readonly retry: Backoff;
  readonly schema: StandardSchemaV1<unknown, T> | undefined;
  readonly shutdownTimeoutMs: number;
  /** Longest delay a nack may ask for: the portable bound, within the driver's. */
  readonly maxNackDelayMs: number;
  /** Longest lease `extendLease` may ask for: the portable bound, within the driver's. */
  readonly maxLeaseMs: number;
  /** Bound of every broker call the session makes, retries included. */
  readonly operationTimeoutMs: number;
  readonly onError: (error: OmnibusError) => void;
}

/** Hooks back into the bus: lets `bus.settled()` see handlers and settles in progress. */
export interface SessionObserver {
  changed(): void;
}

/** How a message is being settled; `release` marks handing back a delivery no handler saw. */
interface SettleDetail {
  delayMs?: number;
  reason?: string;
  /** Attempts recorded with a dead letter; the delivery's attempt when absent. */
  attempts?: number;
  release?: boolean;
}

const RELEASE: SettleDetail = Object.freeze({ delayMs: 0, release: true });

const RECEIVE_BACKOFF: Backoff = { initialDelayMs: 100, maxDelayMs: 5_000 };

/**
 * One consuming session: a receive loop feeding either a handler (push) or an iterator (pull).
 *
 * Invariants:
 * - `unsettled` holds every message received and not yet settled; its size never exceeds
 *   `concurrency`, which bounds both handlers in flight and what pull mode holds.
 * - A message is acked only after its handler resolved; stop() releases everything else.
 * - Messages sharing an ordering key run one at a time, in the order received.
 */
export class Session<T> implements MessageOwner {
  private readonly driver: DriverV1;
  private readonly subscription: DriverSubscription;
  private readonly settings: SessionSettings<T>;
  private readonly observer: SessionObserver;
  private readonly tracing: Tracing | undefined;
  private readonly handler: Handler<T> | undefined;
  private readonly abort = new AbortController();
  private readonly unsettled = new Set<ReceivedEnvelope<T>>();
  /** Settle operations still talking to the broker. */
  private readonly pendingSettles = new Set<Promise<unknown>>();
  /** Per ordering key: messages waiting behind the one running. */
  private readonly keyQueues = new Map<string, ReceivedEnvelope<T>[]>();
  /** Pull mode: received, checked, not yet handed to the iterator. */
  private readonly ready: ReceivedEnvelope<T>[] = [];
  private readyHead = 0;
  private running = 0;
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private capacityWaiter: (() => void) | undefined;
  private pullWaiter: (() => void) | undefined;
  /** Set while stop() waits for handlers: called whenever one finishes or a message settles. */
  private drainWaiter: (() => void) | undefined;
  private leaseTimer: ReturnType<typeof setInterval> | undefined;
  private ackQueue: ReceivedEnvelope<T>[] = [];
  private ackFlush: Promise<unknown> | undefined;

  constructor(
    driver: DriverV1,
    subscription: DriverSubscription,
    settings: SessionSettings<T>,
    observer: SessionObserver,
    tracing: Tracing | undefined,
    handler: Handler<T> | undefined,
  ) {
    this.driver = driver;
    this.subscription = subscription;
    this.settings = settings;
    this.observer = observer;
    this.tracing = tracing;
    this.handler = handler;
  }

  /** Handlers running or settles in progress: `bus.settled()` waits for none. */
  get busy(): boolean {
    return this.running > 0 || this.pendingSettles.size > 0;
  }

  begin(): void {
    if (this.driver.capabilities.leaseExtension !== 'none') {
      const period = Math.max(5, Math.floor(this.settings.ackDeadlineMs / 3));
      this.leaseTimer = setInterval(() => this.renewLeases(), period);
      this.leaseTimer.unref?.();
    }
    this.loopDone = this.loop();
  }

  // ---- receiving -------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    let failures = 0;
    while (!signal.aborted) {
      const free = this.settings.concurrency - this.unsettled.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.capacityWaiter = resolve;
        });
        continue;
      }
      let batch: ReceivedMessage[];
      try {
        batch = await this.subscription.receive({ maxMessages: free, signal });
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        const wrapped = toOmnibusError(error, this.driver, 'receive failed');
        // The connection is gone for good: nothing more to receive; stop() still settles the rest.
        if (wrapped.code === 'Closed') break;
        failures++;
        this.settings.onError(wrapped);
        await pause(retryDelay(RECEIVE_BACKOFF, failures), signal);
        continue;
      }
      if (signal.aborted) {
        // A driver that returned after the abort hands the messages back at once.
        this.releaseReceived(batch);
        break;
      }
      const leaseExpiresAt = Date.now() + this.settings.ackDeadlineMs;
      for (const received of batch)
        this.accept(new ReceivedEnvelope<T>(this, received, leaseExpiresAt));
    }
  }

  private wakeCapacity(): void {
    const waiter = this.capacityWaiter;
    if (waiter !== undefined && this.unsettled.size < this.settings.concurrency) {
      this.capacityWaiter = undefined;
      waiter();
    }
  }

  private accept(message: ReceivedEnvelope<T>): void {
    this.unsettled.add(message);
    const { received } = message;
    const expired = expiredBeforeDelivery(received.attempt, this.settings);
    if (expired !== undefined) {
      this.settleQuietly(message, 'dead-lettered', expired);
      return;
    }
    try {
      message.body = decodeBody(received.body, received.contentType) as T;
    } catch (error) {
      this.reject(
        message,
        `body could not be decoded (${received.contentType ?? 'no content type'}): ${(error as Error).message}`,
      );
      return;
    }
    const schema = this.settings.schema;
    if (schema !== undefined) {
      let result: StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>;
      try {
        result = schema['~standard'].validate(message.body);
      } catch (error) {
        this.reject(message, `schema validation threw: ${(error as Error).message}`);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (outcome) => this.afterValidation(message, outcome),
          (error: unknown) =>
            this.reject(message, `schema validation threw: ${(error as Error).message}`),
        );
        return;
      }
      this.afterValidation(message, result);
      return;
    }
    this.dispatch(message);
  }

  private afterValidation(message: ReceivedEnvelope<T>, result: StandardSchemaV1.Result<T>): void {
    if (result.issues !== undefined) {
      const issues = result.issues
        .slice(0, 5)
        .map((issue) => {
          const path = issue.path
            ?.map((segment) => (typeof segment === 'object' ? segment.key : segment))
            .join('.');
          return path ? `${path}: ${issue.message}` : issue.message;
        })
        .join('; ');
      this.reject(message, `schema validation failed: ${issues}`);
      return;
    }
    message.body = result.value;
    this.dispatch(message);
  }

  /** A message that can never be handled: to the DLQ at once, without using up attempts. */
  private reject(message: ReceivedEnvelope<T>, reason: string): void {
    if (this.settings.deadLetter) {
      this.settleQuietly(message, 'dead-lettered', { reason });
    } else {
      this.settings.onError(
        new InvalidArgumentError(`message ${message.id}: ${reason}; no DLQ, retrying later`),
      );
      this.settleQuietly(message, 'nacked', {
        delayMs: Math.min(this.settings.retry.maxDelayMs, this.settings.maxNackDelayMs),
      });
    }
  }

  private dispatch(message: ReceivedEnvelope<T>): void {
    if (this.handler === undefined) {
      this.ready.push(message);
      this.wakePull();
      return;
    }
    const key = message.received.orderingKey;
    if (key !== undefined) {
      const queue = this.keyQueues.get(key);
      if (queue !== undefined) {
        queue.push(message);
        return;
      }
      this.keyQueues.set(key, []);
    }
    this.run(message, this.handler);
  }

  // ---- handling --------------------------------------------------------------------------------

  /**
   * Runs the handler. Written with `then` rather than `async`/`await`: on the hot path it saves a
   * promise per message, and a synchronous handler costs none at all.
   */
  private run(message: ReceivedEnvelope<T>, handler: Handler<T>): void {
    this.running++;
    let result: unknown;
    try {
      result =
        this.tracing === undefined
          ? handler(message)
          : this.tracing.runHandler(message.received.traceparent, () => handler(message));
    } catch (error) {
      this.finish(message, false, error);
      return;
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      (result as PromiseLike<unknown>).then(
        () => this.finish(message, true, undefined),
        (error: unknown) => this.finish(message, false, error),
      );
    } else {
      this.finish(message, true, undefined);
    }
  }

  private finish(message: ReceivedEnvelope<T>, succeeded: boolean, error: unknown): void {
    if (message.outcome === undefined) {
      if (succeeded) this.settleQuietly(message, 'acked', {});
      else this.fail(message, error);
    }
    this.running--;
    // A nacked message comes back later: its successors must wait for it, so they are released.
    this.next(message, message.outcome !== 'acked' && message.outcome !== 'dead-lettered');
    this.drainWaiter?.();
    this.observer.changed();
  }

  private fail(message: ReceivedEnvelope<T>, error: unknown): void {
    const { attempt } = message.received;
    const verdict = afterHandlerFailure(attempt, error, this.settings);
    if (verdict !== undefined) {
      this.settleQuietly(message, 'dead-lettered', verdict);
      return;
    }
    const delayMs = Math.min(
      retryDelay(this.settings.retry, attempt),
      this.settings.maxNackDelayMs,
    );
    this.settleQuietly(message, 'nacked', { delayMs });
  }

  /**
   * Runs the next message of the finished one's ordering key. When the finished one is coming back
   * (nacked), the ones queued behind it are released instead: handling them now would overtake it.
   */
  private next(finished: ReceivedEnvelope<T>, released: boolean): void {
    const key = finished.received.orderingKey;
    if (key === undefined) return;
    const queue = this.keyQueues.get(key);
    if (queue === undefined) return;
    if (released) {
      this.keyQueues.delete(key);
      for (const waiting of queue) this.settleQuietly(waiting, 'nacked', RELEASE);
      return;
    }
    const following = queue.shift();
    if (following === undefined || this.handler === undefined) {
      this.keyQueues.delete(key);
      return;
    }
    this.run(following, this.handler);
  }

  // ---- settling --------------------------------------------------------------------------------

  /** A settle the user asked for (`msg.ack()`, `nack()`, `deadLetter()`). */
  settle(message: ReceivedEnvelope<T>, outcome: Outcome, detail: SettleDetail): Promise<Outcome> {
    if (outcome === 'nacked' && message.settledBy === undefined) {
      checkMilliseconds(detail.delayMs, 'nack delayMs', this.settings.maxNackDelayMs);
      const verdict = afterExplicitNack(message.received.attempt, this.settings);
      if (verdict !== undefined) {
        outcome = 'dead-lettered';
        detail = verdict;
      }
    }
    const operation = this.startSettle(message, outcome, detail);
    return operation.then(() => message.outcome ?? outcome);
  }

  /**
   * Starts a settle and returns the broker operation; a message already settled returns its first
   * operation. Bad arguments throw before anything changes, so the message can still be settled.
   */
  private startSettle(
    message: ReceivedEnvelope<T>,
    outcome: Outcome,
    detail: SettleDetail,
  ): Promise<unknown> {
    if (message.settledBy !== undefined) return message.settledBy;
    if (outcome === 'nacked') {
      checkMilliseconds(detail.delayMs, 'nack delayMs', this.settings.maxNackDelayMs);
    } else if (outcome === 'dead-lettered') {
      if (!this.settings.deadLetter) {
        throw new InvalidArgumentError(
          'this consumer has deadLetter: false, so there is no DLQ to move the message to',
        );
      }
      if (typeof detail.reason !== 'string' || detail.reason.length === 0) {
        throw new InvalidArgumentError('deadLetter(reason) needs a non-empty reason');
      }
    }
    message.outcome = outcome;
    this.unsettled.delete(message);
    let operation: Promise<unknown>;
    if (outcome === 'acked') {
      operation = this.queueAck(message);
    } else {
      const { handle } = message.received;
      const what = outcome === 'nacked' ? 'nack' : 'dead-letter';
      const { received } = message;
      operation = this.track(
        withRetries(
          () =>
            outcome === 'nacked'
              ? this.subscription.nack([
                  {
                    handle,
                    delayMs: detail.delayMs ?? 0,
                    attempt: received.attempt,
                    message: received,
                    release: detail.release === true,
                  },
                ])
              : this.subscription.deadLetter([
                  {
                    handle,
                    message: received,
                    reason: detail.reason ?? '',
                    attempts: detail.attempts ?? received.attempt,
                  },
                ]),
          (error) => toOmnibusError(error, this.driver, `${what} of message ${message.id} failed`),
          budget(this.settings.operationTimeoutMs),
        ),
      );
    }
    message.settledBy = operation;
    this.wakeCapacity();
    this.drainWaiter?.();
    return operation;
  }

  /** Settles on core's own initiative; failures are reported through onError (by `track`). */
  private settleQuietly(
    message: ReceivedEnvelope<T>,
    outcome: Outcome,
    detail: SettleDetail,
  ): void {
    try {
      this.startSettle(message, outcome, detail);
    } catch (error) {
      this.settings.onError(toOmnibusError(error, this.driver, `settling message ${message.id}`));
    }
  }

  /** Keeps `busy` true while a broker operation runs, and reports its failure once. */
  private track(operation: Promise<unknown>): Promise<unknown> {
    this.pendingSettles.add(operation);
    operation.then(
      () => {
        this.pendingSettles.delete(operation);
        this.observer.changed();
      },
      (error: unknown) => {
        this.pendingSettles.delete(operation);
        this.settings.onError(toOmnibusError(error, this.driver, 'settling failed'));
        this.observer.changed();
      },
    );
    return operation;
  }

  /** Acks settled in the same tick go to the broker as one batch. */
  private queueAck(message: ReceivedEnvelope<T>): Promise<unknown> {
    this.ackQueue.push(message);
    if (this.ackFlush === undefined) {
      this.ackFlush = this.track(
        Promise.resolve().then(() => {
          const batch = this.ackQueue;
          this.ackQueue = [];
          this.ackFlush = undefined;
          return withRetries(
            () => this.subscription.ack(batch.map((queued) => queued.received.handle)),
            (error) =>
              toOmnibusError(error, this.driver, `ack of ${batch.length} message(s) failed`),
            budget(this.settings.operationTimeoutMs),
          );
        }),
      );
    }
    return this.ackFlush;
  }

  async extendLease(message: ReceivedEnvelope<T>, ms: number): Promise<void> {
    checkMilliseconds(ms, 'extendLease ms', this.settings.maxLeaseMs);
    if (message.outcome !== undefined) return;
    message.leaseExpiresAt = Math.max(message.leaseExpiresAt, Date.now() + ms);
    if (this.driver.capabilities.leaseExtension === 'none') return;
    await withRetries(
      () => this.subscription.extendLease([{ handle: message.received.handle, leaseMs: ms }]),
      (error) =>
        toOmnibusError(error, this.driver, `extending the lease of message ${message.id} failed`),
      budget(this.settings.operationTimeoutMs),
    );
  }

  /** Extends, in one call, every unsettled lease that is a third or more through. */
  private renewLeases(): void {
    if (this.unsettled.size === 0) return;
    const { ackDeadlineMs } = this.settings;
    const now = Date.now();
    const threshold = now + (ackDeadlineMs * 2) / 3;
    const due: ReceivedEnvelope<T>[] = [];
    for (const message of this.unsettled) {
      if (message.leaseExpiresAt <= threshold) {
        message.leaseExpiresAt = now + ackDeadlineMs;
        due.push(message);
      }
    }
    if (due.length === 0) return;
    this.subscription
      .extendLease(
        due.map((message) => ({ handle: message.received.handle, leaseMs: ackDeadlineMs })),
      )
      .catch((error: unknown) =>
        this.settings.onError(toOmnibusError(error, this.driver, 'lease extension failed')),
      );
  }

  // ---- pull mode -------------------------------------------------------------------------------

  private wakePull(): void {
    const waiter = this.pullWaiter;
    if (waiter !== undefined) {
      this.pullWaiter = undefined;
      waiter();
    }
  }

  /** The next message for the iterator, or undefined once the session stops. */
  async take(): Promise<ReceivedEnvelope<T> | undefined> {
    for (;;) {
      while (this.readyHead < this.ready.length) {
        const message = this.ready[this.readyHead++]!;
        if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
          this.ready.splice(0, this.readyHead);
          this.readyHead = 0;
        }
        if (message.outcome === undefined) return message;
      }
      if (this.stopping) return undefined;
      await new Promise<void>((resolve) => {
        this.pullWaiter = resolve;
      });
    }
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Two-phase stop: stop receiving; release what was received but not started; wait for running
   * handlers (and, in pull mode, messages the caller holds) up to `shutdownTimeoutMs`; release what
   * is still unsettled then; close the driver session.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.abort.abort();
    this.wakeCapacity();
    this.capacityWaiter?.();
    this.wakePull();
    await this.loopDone;

    const started = new Set<ReceivedEnvelope<T>>();
    if (this.handler !== undefined) {
      for (const message of this.unsettled) started.add(message);
      for (const queue of this.keyQueues.values())
        for (const waiting of queue) started.delete(waiting);
    } else {
      for (const message of this.unsettled) started.add(message);
      for (let index = this.readyHead; index < this.ready.length; index++)
        started.delete(this.ready[index]!);
    }
    this.keyQueues.clear();
    this.readyHead = this.ready.length;
    this.release(
      [...this.unsettled].filter((message) => !started.has(message)),
      true,
    );

    if (this.unsettled.size > 0 || this.running > 0) {
      await this.waitForHandlers(this.settings.shutdownTimeoutMs);
    }
    if (this.unsettled.size > 0) {
      this.settings.onError(
        new OmnibusError(
          'Timeout',
          `stop(): ${this.unsettled.size} message(s) were still unsettled after shutdownTimeoutMs ${this.settings.shutdownTimeoutMs}; released for redelivery`,
          { driver: this.driver.name },
        ),
      );
      this.release([...this.unsettled], false);
    }
    while (this.pendingSettles.size > 0) await Promise.allSettled([...this.pendingSettles]);
    if (this.leaseTimer !== undefined) clearInterval(this.leaseTimer);
    try {
      await this.subscription.close();
    } catch (error) {
      this.settings.onError(toOmnibusError(error, this.driver, 'closing the subscription failed'));
    }
    this.observer.changed();
  }

  private waitForHandlers(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.drainWaiter = undefined;
        resolve();
      }, timeoutMs);
      timer.unref?.();
      this.drainWaiter = () => {
        if (this.unsettled.size > 0 || this.running > 0) return;
        clearTimeout(timer);
        this.drainWaiter = undefined;
        resolve();
      };
    });
  }

  /** Hands messages back for redelivery now; `unstarted`: no handler saw them, so no attempt is used. */
  private release(messages: ReceivedEnvelope<T>[], unstarted: boolean): void {
    const detail = unstarted ? RELEASE : { delayMs: 0 };
    for (const message of messages) this.settleQuietly(message, 'nacked', detail);
  }

  private releaseReceived(batch: ReceivedMessage[]): void {
    if (batch.length === 0) return;
    const requests = batch.map((received) => ({
      handle: received.handle,
      delayMs: 0,
      attempt: received.attempt,
      message: received,
      release: true,
    }));
    this.track(
      withRetries(
        () => this.subscription.nack(requests),
        (error) => toOmnibusError(error, this.driver, 'releasing received messages failed'),
        budget(this.settings.operationTimeoutMs),
      ),
    );
  }
}
