// The consumer loop: receives, admits, dispatches to a handler or the iterator, settles, stops in two phases.
import { type Backoff, budget, pause, retryDelay } from '../backoff.js';
import { messageBytes, settleInBatches } from '../batch-call.js';
import { afterExplicitNack } from '../dead-letter-policy.js';
import type {
  BatchResult,
  DeadLetterRequest,
  DriverSubscription,
  DriverV2,
  ReceivedMessage,
  ReleaseRequest,
} from '../driver.js';
import { InvalidArgumentError, OmnibusError, toOmnibusError } from '../errors.js';
import { LinkedList } from '../linked-list.js';
import {
  type MessageOwner,
  RELEASE,
  ReceivedEnvelope,
  type SettleOperation,
  type SettleRequest,
} from '../message.js';
import { checkMilliseconds } from '../rules.js';
import type { Tracing } from '../trace.js';
import type { Handler } from '../types.js';
import { AckBatcher } from './ack-batcher.js';
import {
  type Admission,
  type AdmissionSettings,
  admit,
  PendingAdmission,
  Refusal,
} from './admission.js';
import type { Dispatch, DispatchHost } from './dispatch.js';
import { LeaseKeeper, type LeaseSettings } from './lease-keeper.js';
import { PullDispatch } from './pull-dispatch.js';
import { type HandlerFailureSettings, PushDispatch } from './push-dispatch.js';

/** Resolved consumer settings a loop runs with; each part declares the ones it reads. */
export interface ConsumerSettings<T>
  extends AdmissionSettings<T>,
    HandlerFailureSettings,
    LeaseSettings {
  readonly concurrency: number;
  /** Messages sharing an ordering key run one at a time (the consumer's `ordering`). */
  readonly ordering: boolean;
  readonly shutdownTimeoutMs: number;
  /** Bound of every broker call the loop makes, retries included. */
  readonly operationTimeoutMs: number;
}

/** Hooks back into the bus: lets `bus.settled()` see handlers and settles in progress. */
export interface LoopObserver {
  changed(): void;
}

const RECEIVE_BACKOFF: Backoff = { initialDelayMs: 100, maxDelayMs: 5_000 };

/**
 * One consumer's loop over one driver subscription: receives, admits (see `admission.ts`),
 * dispatches to a handler (push) or the iterator (pull), carries out settles and stops.
 *
 * Invariants:
 * - `unsettled` holds every message received and not yet settled; its size never exceeds
 *   `concurrency`, which bounds both handlers in flight and what pull mode holds.
 * - A message is acked only after its handler resolved; stop() releases everything else.
 * - Messages sharing an ordering key run one at a time, in the order received.
 */
export class ConsumerLoop<T> implements MessageOwner<T>, DispatchHost<T> {
  private readonly driver: DriverV2;
  private readonly subscription: DriverSubscription;
  private readonly settings: ConsumerSettings<T>;
  private readonly observer: LoopObserver;
  private readonly dispatch: Dispatch<T>;
  /** The same object as `dispatch` in pull mode, for `take()`. */
  private readonly pull: PullDispatch<T> | undefined;
  private readonly acks: AckBatcher;
  private readonly leases: LeaseKeeper<T>;
  private readonly abort = new AbortController();
  private readonly unsettled = new LinkedList<ReceivedEnvelope<T>>();
  /** Settle operations still talking to the broker. */
  private readonly pendingSettles = new Set<Promise<unknown>>();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private capacityWaiter: (() => void) | undefined;
  /** Set while stop() waits for handlers: called whenever one finishes or a message settles. */
  private drainWaiter: (() => void) | undefined;

  /** `handler` undefined: pull mode, messages are taken with {@link take}. */
  constructor(
    driver: DriverV2,
    subscription: DriverSubscription,
    settings: ConsumerSettings<T>,
    observer: LoopObserver,
    tracing: Tracing | undefined,
    handler: Handler<T> | undefined,
  ) {
    this.driver = driver;
    this.subscription = subscription;
    this.settings = settings;
    this.observer = observer;
    this.pull = handler === undefined ? new PullDispatch<T>() : undefined;
    this.dispatch = this.pull ?? new PushDispatch<T>(handler!, tracing, settings, this);
    this.acks = new AckBatcher(
      driver,
      subscription,
      settings.operationTimeoutMs,
      (operation) => this.track(operation),
      (error) => settings.onError(error),
    );
    this.leases = new LeaseKeeper<T>(driver, subscription, settings, this.unsettled);
  }

  /** Handlers running or settles in progress: `bus.settled()` waits for none. */
  get busy(): boolean {
    return this.dispatch.running > 0 || this.pendingSettles.size > 0;
  }

  begin(): void {
    this.leases.start();
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
      for (const received of batch) {
        const message = new ReceivedEnvelope<T>(this, received, leaseExpiresAt);
        this.unsettled.add(message);
        this.afterAdmission(message, admit(received, this.settings));
      }
    }
  }

  private wakeCapacity(): void {
    const waiter = this.capacityWaiter;
    if (waiter !== undefined && this.unsettled.size < this.settings.concurrency) {
      this.capacityWaiter = undefined;
      waiter();
    }
  }

  private afterAdmission(message: ReceivedEnvelope<T>, admission: Admission<T>): void {
    if (admission instanceof Refusal) {
      // Without a DLQ the message keeps coming back: say why, or the user sees only redeliveries.
      if (admission.outcome === 'nacked') {
        this.settings.onError(
          new InvalidArgumentError(
            `message ${message.id}: ${admission.reason}; no DLQ, retrying later`,
          ),
        );
      }
      this.settleQuietly(message, admission);
    } else if (admission instanceof PendingAdmission) {
      admission.settled.then((settled) => this.afterAdmission(message, settled));
    } else {
      message.body = admission;
      this.dispatch.deliver(message);
    }
  }

  /** The next message for the iterator (pull mode), or undefined once the loop stops. */
  take(): Promise<ReceivedEnvelope<T> | undefined> {
    if (this.pull === undefined) throw new Error('take() is for a loop without a handler');
    return this.pull.take();
  }

  // ---- settling --------------------------------------------------------------------------------

  checkSettle(
    message: ReceivedEnvelope<T>,
    request: SettleRequest,
    byUser: boolean,
  ): SettleRequest {
    if (request.outcome === 'nacked') {
      checkMilliseconds(request.delayMs, 'nack delayMs', this.settings.maxNackDelayMs);
      // Only a nack the user asked for: core's own nacks (releases, failures) decide for themselves.
      if (byUser) {
        const verdict = afterExplicitNack(message.received.attempt, this.settings);
        if (verdict !== undefined) {
          return { outcome: 'dead-lettered', reason: verdict.reason, attempts: verdict.attempts };
        }
      }
    } else if (request.outcome === 'dead-lettered') {
      if (!this.settings.deadLetter) {
        throw new InvalidArgumentError(
          'this consumer has deadLetter: false, so there is no DLQ to move the message to',
        );
      }
      if (typeof request.reason !== 'string' || request.reason.length === 0) {
        throw new InvalidArgumentError('deadLetter(reason) needs a non-empty reason');
      }
    }
    return request;
  }

  startSettle(message: ReceivedEnvelope<T>, request: SettleRequest): SettleOperation {
    this.unsettled.delete(message);
    const operation =
      request.outcome === 'acked'
        ? this.acks.add(message.received.handle)
        : (this.track(this.nackReleaseOrDeadLetter(message, request)) as Promise<undefined>);
    this.wakeCapacity();
    this.drainWaiter?.();
    return operation;
  }

  /** One nack, release or dead letter, tried again while retryable within `operationTimeoutMs`. */
  private nackReleaseOrDeadLetter(
    message: ReceivedEnvelope<T>,
    request: SettleRequest,
  ): Promise<undefined> {
    const { received } = message;
    if (request.release === true) {
      return this.settleCall(
        [{ handle: received.handle, attempt: received.attempt, message: received }],
        (requests) => this.subscription.release(requests),
        `release of message ${message.id} failed`,
      );
    }
    if (request.outcome === 'nacked') {
      return this.settleCall(
        [
          {
            handle: received.handle,
            delayMs: request.delayMs ?? 0,
            attempt: received.attempt,
            message: received,
          },
        ],
        (requests) => this.subscription.nack(requests),
        `nack of message ${message.id} failed`,
      );
    }
    return this.settleCall<DeadLetterRequest>(
      [
        {
          handle: received.handle,
          message: received,
          reason: request.reason ?? '',
          attempts: request.attempts ?? received.attempt,
        },
      ],
      (requests) => this.subscription.deadLetter(requests),
      `dead-letter of message ${message.id} failed`,
      (entry) => messageBytes(entry.message) + Buffer.byteLength(entry.reason, 'utf8'),
    );
  }

  /** A settle-shaped driver call within `capabilities.batch.settle` and `operationTimeoutMs`. */
  private settleCall<E>(
    entries: readonly E[],
    call: (entries: readonly E[]) => Promise<BatchResult | undefined>,
    failure: string,
    bytesOf?: (entry: E) => number,
  ): Promise<undefined> {
    return settleInBatches(
      entries,
      this.driver.capabilities.batch.settle,
      call,
      (error) => toOmnibusError(error, this.driver, failure),
      budget(this.settings.operationTimeoutMs),
      bytesOf,
    );
  }

  settleQuietly(message: ReceivedEnvelope<T>, request: SettleRequest): void {
    try {
      message.settle(request, false);
    } catch (error) {
      this.settings.onError(toOmnibusError(error, this.driver, `settling message ${message.id}`));
    }
  }

  handlerFinished(): void {
    this.drainWaiter?.();
    this.observer.changed();
  }

  extendLease(message: ReceivedEnvelope<T>, ms: number): Promise<void> {
    return this.leases.extend(message, ms);
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

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Two-phase stop: stop receiving; release what was received but not started; wait for running
   * handlers (and, in pull mode, messages the caller holds) up to `shutdownTimeoutMs`; release what
   * is still unsettled then; close the driver subscription.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.abort.abort();
    this.wakeCapacity();
    this.capacityWaiter?.();
    this.dispatch.stopTaking();
    await this.loopDone;

    const unstarted = this.dispatch.withdrawUnstarted();
    // In arrival order (the unsettled list's): brokers that requeue in call order keep it.
    this.release(
      [...this.unsettled].filter((message) => unstarted.has(message)),
      true,
    );

    if (this.unsettled.size > 0 || this.dispatch.running > 0) {
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
    this.leases.stop();
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
      // Kept referenced: whoever awaits stop() must not see the process exit under it (memory has
      // no socket to keep it alive).
      this.drainWaiter = () => {
        if (this.unsettled.size > 0 || this.dispatch.running > 0) return;
        clearTimeout(timer);
        this.drainWaiter = undefined;
        resolve();
      };
    });
  }

  /** Hands messages back for redelivery now; `unstarted`: no handler saw them, so no attempt is used. */
  private release(messages: ReceivedEnvelope<T>[], unstarted: boolean): void {
    const request: SettleRequest = unstarted ? RELEASE : { outcome: 'nacked', delayMs: 0 };
    for (const message of messages) this.settleQuietly(message, request);
  }

  /** A batch the driver returned after the abort: no envelope, no handler, straight back. */
  private releaseReceived(batch: ReceivedMessage[]): void {
    if (batch.length === 0) return;
    const requests: ReleaseRequest[] = batch.map((received) => ({
      handle: received.handle,
      attempt: received.attempt,
      message: received,
    }));
    this.track(
      this.settleCall(
        requests,
        (entries) => this.subscription.release(entries),
        'releasing received messages failed',
      ),
    );
  }
}
