/** Resolved retry settings of a consumer. */
export interface Backoff {
  readonly initialDelayMs: number;
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

/** Retry budget of one-shot operations (publish, ack, nack): a few quick tries, then give up. */
export const OPERATION_RETRY: Backoff & { readonly attempts: number } = {
  initialDelayMs: 100,
  maxDelayMs: 2_000,
  attempts: 5,
};

/**
 * Runs `operation`, calling it again while it fails with a retryable `OmnibusError`, up to
 * `OPERATION_RETRY.attempts` times. `wrap` turns whatever was thrown into an `OmnibusError`.
 */
export async function withRetries<R>(
  operation: () => Promise<R>,
  wrap: (error: unknown) => { retryable: boolean },
  signal?: AbortSignal,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const wrapped = wrap(error);
      if (!wrapped.retryable || attempt >= OPERATION_RETRY.attempts || signal?.aborted)
        throw wrapped;
      await pause(retryDelay(OPERATION_RETRY, attempt), signal);
    }
  }
}
