// Push mode: runs the handler on each admitted message, one at a time per ordering key, and settles by how it ended.
import { type Backoff, retryDelay } from '../backoff.js';
import { afterHandlerFailure, type DeadLetterSettings } from '../dead-letter-policy.js';
import { ACK, RELEASE, type ReceivedEnvelope } from '../message.js';
import type { Tracing } from '../trace.js';
import type { Handler } from '../types.js';
import type { Dispatch, DispatchHost } from './dispatch.js';
import { KeyQueues } from './key-queues.js';

/** Settings push mode reads when a handler fails. */
export interface HandlerFailureSettings extends DeadLetterSettings {
  readonly retry: Backoff;
  /** Longest delay a nack may ask for: the portable bound, within the driver's. */
  readonly maxNackDelayMs: number;
  /** Messages sharing an ordering key run one at a time; `false`: keys are ignored. */
  readonly ordering: boolean;
}

/**
 * Runs the handler: a handler that returns acks the message, one that throws or rejects nacks it
 * with backoff (or dead-letters it on the last attempt), unless the handler settled it itself.
 * Messages sharing an ordering key wait in {@link KeyQueues} for the one running (when the
 * consumer asked for `ordering`).
 */
export class PushDispatch<T> implements Dispatch<T> {
  running = 0;
  private readonly handler: Handler<T>;
  private readonly tracing: Tracing | undefined;
  private readonly settings: HandlerFailureSettings;
  private readonly host: DispatchHost<T>;
  private readonly keyQueues = new KeyQueues<ReceivedEnvelope<T>>();

  constructor(
    handler: Handler<T>,
    tracing: Tracing | undefined,
    settings: HandlerFailureSettings,
    host: DispatchHost<T>,
  ) {
    this.handler = handler;
    this.tracing = tracing;
    this.settings = settings;
    this.host = host;
  }

  deliver(message: ReceivedEnvelope<T>): void {
    const key = this.settings.ordering ? message.received.orderingKey : undefined;
    if (key !== undefined && !this.keyQueues.enter(key, message)) return;
    this.run(message);
  }

  stopTaking(): void {}

  withdrawUnstarted(): ReadonlySet<ReceivedEnvelope<T>> {
    return this.keyQueues.withdrawAll();
  }

  /**
   * Written with `then` rather than `async`/`await`: on the hot path it saves a promise per
   * message, and a synchronous handler costs none at all.
   */
  private run(message: ReceivedEnvelope<T>): void {
    this.running++;
    const handler = this.handler;
    const traceparent = message.received.traceparent;
    let result: unknown;
    try {
      result =
        this.tracing === undefined || traceparent === undefined
          ? handler(message)
          : this.tracing.runHandler(traceparent, () => handler(message));
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
      if (succeeded) this.host.settleQuietly(message, ACK);
      else this.fail(message, error);
    }
    this.running--;
    const key = this.settings.ordering ? message.received.orderingKey : undefined;
    if (key !== undefined) {
      const outcome = message.outcome;
      if (outcome === 'acked' || outcome === 'dead-lettered') {
        const following = this.keyQueues.next(key);
        if (following !== undefined) this.run(following);
      } else {
        // Nacked, it comes back later: its successors must wait for it, so they are released.
        const behind = this.keyQueues.releaseBehind(key);
        if (behind !== undefined)
          for (const waiting of behind) this.host.settleQuietly(waiting, RELEASE);
      }
    }
    this.host.handlerFinished();
  }

  private fail(message: ReceivedEnvelope<T>, error: unknown): void {
    const { attempt } = message.received;
    const verdict = afterHandlerFailure(attempt, error, this.settings);
    if (verdict !== undefined) {
      this.host.settleQuietly(message, {
        outcome: 'dead-lettered',
        reason: verdict.reason,
        attempts: verdict.attempts,
      });
      return;
    }
    const delayMs = Math.min(
      retryDelay(this.settings.retry, attempt),
      this.settings.maxNackDelayMs,
    );
    this.host.settleQuietly(message, { outcome: 'nacked', delayMs });
  }
}
