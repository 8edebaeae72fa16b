import { afterEach, describe, expect, it, vi } from 'vitest';
import { budget, retryDelay, withRetries } from './backoff.js';
import { OmnibusError } from './errors.js';

describe('retryDelay', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 1_000 };
  it('doubles per attempt between half and all of the step', () => {
    expect(retryDelay(backoff, 1, () => 0)).toBe(50);
    expect(retryDelay(backoff, 1, () => 1)).toBe(100);
    expect(retryDelay(backoff, 3, () => 0)).toBe(200);
    expect(retryDelay(backoff, 3, () => 1)).toBe(400);
  });
  it('caps at maxDelayMs, even for huge attempt counts', () => {
    expect(retryDelay(backoff, 10, () => 1)).toBe(1_000);
    expect(retryDelay(backoff, 10_000, () => 1)).toBe(1_000);
  });
  it('is zero when retries are immediate', () => {
    expect(retryDelay({ initialDelayMs: 0, maxDelayMs: 0 }, 4)).toBe(0);
  });
});

describe('withRetries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const retryable = () => new OmnibusError('Unavailable', 'broker down', { retryable: true });

  it('tries again while the error is retryable, and stops at the deadline with the last error', async () => {
    vi.useFakeTimers();
    let tries = 0;
    const started = Date.now();
    const running = withRetries(
      () => {
        tries++;
        return Promise.reject(retryable());
      },
      (error) => error as OmnibusError,
      budget(5_000),
    );
    const outcome = running.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = (await outcome) as OmnibusError;
    expect(error.code).toBe('Unavailable');
    expect(Date.now() - started).toBeLessThanOrEqual(5_000);
    expect(tries).toBeGreaterThan(3);
  });

  it('never calls again after an error that is not retryable', async () => {
    let tries = 0;
    const error = await withRetries(
      () => {
        tries++;
        return Promise.reject(new OmnibusError('Unauthenticated', 'bad password'));
      },
      (failure) => failure as OmnibusError,
      budget(5_000),
    ).catch((failure: unknown) => failure as OmnibusError);
    expect(error.code).toBe('Unauthenticated');
    expect(tries).toBe(1);
  });

  it('abandons a try still running at the deadline with a retryable Timeout naming the bound', async () => {
    vi.useFakeTimers();
    const hanging = new Promise<never>(() => undefined);
    const outcome = withRetries(
      () => hanging,
      (error) => error as OmnibusError,
      budget(2_000),
    ).catch((error: unknown) => error as OmnibusError);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await outcome;
    expect(error.code).toBe('Timeout');
    expect(error.message).toContain('operationTimeoutMs (2000 ms)');
  });
});
