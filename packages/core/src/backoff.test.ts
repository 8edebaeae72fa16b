import { describe, expect, it } from 'vitest';
import { retryDelay } from './backoff.js';

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
