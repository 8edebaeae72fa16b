import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeLimit } from './time-limit.js';

describe('withTimeLimit', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles like the work when it is in time', async () => {
    await expect(withTimeLimit(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(
      7,
    );
    await expect(
      withTimeLimit(Promise.reject(new Error('refused')), 1_000, () => new Error('late')),
    ).rejects.toThrow('refused');
  });

  it('rejects with onTimeout’s error once the time passes, calls it once, and ignores the late outcome', async () => {
    vi.useFakeTimers();
    let finish: (value: number) => void = () => undefined;
    const work = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const onTimeout = vi.fn(() => new Error('no answer within 500 ms'));
    const outcome = withTimeLimit(work, 500, onTimeout).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    finish(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(((await outcome) as Error).message).toBe('no answer within 500 ms');
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });
});
