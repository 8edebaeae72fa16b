// Backoff between tries, and the retry loop that bounds every driver call core makes by operationTimeoutMs.
import { OmnibusError } from './errors.js';
import { withTimeLimit } from './time-limit.js';

/** Resolved retry settings of a consumer. */
export interface Backoff {
  /** Delay after the first failed attempt, in ms (then doubled per attempt). */
  readonly initialDelayMs: number;
  /** Cap of the delay, in ms. */
  readonly maxDelayMs: number;
}

/**
 * Delay before the next delivery after `attempt` failed: exponential from `initialDelayMs`, capped
 * at `maxDelayMs`, with "equal jitter" (half fixed, half random) so that a burst of failures spreads
 * out while the delay never falls below half the exponential step.
 */
export function retryDelay(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (backoff.initialDelayMs === 0) return 0;
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}

/** Waits `ms`, or less when `signal` aborts (resolving, not rejecting: callers check the signal). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backoff between core's tries of one operation (publish, ack, nack, topology): quick, then capped. */
export const OPERATION_RETRY: Backoff = {
  initialDelayMs: 100,
  maxDelayMs: 2_000,
};

/** What bounds one operation's tries. */
export interface RetryBudget {
  /** Epoch ms after which no try starts and a running one is abandoned (`Timeout`). */
  readonly deadlineAt: number;
  /** The user's `operationTimeoutMs`, named in the `Timeout` error. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** A budget starting now. */
export function budget(timeoutMs: number, signal?: AbortSignal): RetryBudget {
  return { deadlineAt: Date.now() + timeoutMs, timeoutMs, signal };
}

/**
 * Runs `operation`, calling it again while it fails with a retryable error and the budget allows
 * the next try, so the whole call (retries included) ends by `budget.deadlineAt`: a try still
 * running then is abandoned with a retryable `Timeout` (its late outcome is ignored; for a publish
 * that is the documented "a rejected send may have been sent"). `wrap` turns whatever was thrown
 * into an `OmnibusError`.
 */
export async function withRetries<R>(
  operation: () => Promise<R>,
  wrap: (error: unknown) => Error & { retryable: boolean },
  budget: RetryBudget,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeLimit(
        operation(),
        budget.deadlineAt - Date.now(),
        () =>
          new OmnibusError(
            'Timeout',
            `no answer from the broker within operationTimeoutMs (${budget.timeoutMs} ms)`,
            { retryable: true },
          ),
      );
    } catch (error) {
      const wrapped = wrap(error);
      const delay = retryDelay(OPERATION_RETRY, attempt);
      if (!wrapped.retryable || budget.signal?.aborted || Date.now() + delay >= budget.deadlineAt)
        throw wrapped;
      await pause(delay, budget.signal);
    }
  }
}
