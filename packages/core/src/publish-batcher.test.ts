import { describe, expect, it } from 'vitest';
import { budget } from './backoff.js';
import { callBatch, splitBatch } from './batch-call.js';
import type { BatchLimit, BatchResult, DriverV2, OutgoingMessage } from './driver.js';
import { OmnibusError } from './errors.js';
import { PublishBatcher } from './publish-batcher.js';

const retryable = () => new OmnibusError('Unavailable', 'try again', { retryable: true });
const final = () => new OmnibusError('InvalidArgument', 'never', { retryable: false });

function message(id: string, bodyBytes = 10, attributes: Record<string, string> = {}) {
  return {
    id,
    body: new Uint8Array(bodyBytes),
    attributes,
    contentType: 'application/json',
    publishedAt: 0,
    orderingKey: undefined,
    delayMs: undefined,
    traceparent: undefined,
  } satisfies OutgoingMessage;
}

/** A driver whose publish records each call's ids and answers with `answer`. */
function fakeDriver(
  limit: BatchLimit,
  answer: (ids: string[], call: number) => BatchResult | undefined | Error = () => undefined,
) {
  const calls: string[][] = [];
  const driver = {
    name: 'fake',
    capabilities: { batch: { publish: limit, settle: limit } },
    async publish(_topic: string, messages: readonly OutgoingMessage[]) {
      const ids = messages.map((entry) => entry.id);
      calls.push(ids);
      const result = answer(ids, calls.length);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as DriverV2;
  return { driver, calls };
}

const noop = () => {};

describe('PublishBatcher', () => {
  it('chunks by batch.publish.maxMessages, coalescing the sends of one tick', async () => {
    const { driver, calls } = fakeDriver({ maxMessages: 3 });
    const batcher = new PublishBatcher(driver, noop);
    const bounded = budget(5_000);
    await Promise.all([
      batcher.publish('t', [message('a'), message('b')], bounded),
      batcher.publish('t', [message('c'), message('d'), message('e')], bounded),
      batcher.publish('t', [message('f'), message('g')], bounded),
    ]);
    expect(calls).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    expect(batcher.inFlight).toBe(0);
  });

  it('chunks by maxBytes, counting body plus attribute names and values', async () => {
    const { driver, calls } = fakeDriver({ maxMessages: 10, maxBytes: 100 });
    const batcher = new PublishBatcher(driver, noop);
    const bounded = budget(5_000);
    await batcher.publish(
      't',
      [
        message('a', 40),
        message('b', 30, { ab: 'cdefgh' }), // 30 + 2 + 6 = 38 → 78
        message('c', 23), // 101: next chunk
        message('d', 200), // alone, larger than the limit on its own
        message('e', 1),
      ],
      bounded,
    );
    expect(calls).toEqual([['a', 'b'], ['c'], ['d'], ['e']]);
  });

  it('retries only the entries a BatchResult lists as retryable failures, and each send resolves on its own entries', async () => {
    const { driver, calls } = fakeDriver({ maxMessages: 10 }, (ids, call) =>
      call === 1
        ? {
            failed: [
              { index: ids.indexOf('b'), error: retryable() },
              { index: ids.indexOf('d'), error: final() },
            ],
          }
        : undefined,
    );
    const batcher = new PublishBatcher(driver, noop);
    const bounded = budget(5_000);
    const first = batcher.publish('t', [message('a'), message('b')], bounded);
    const second = batcher.publish('t', [message('c'), message('d')], bounded);
    const third = batcher.publish('t', [message('e')], bounded);
    const settledOrder: string[] = [];
    for (const [name, sending] of [
      ['first', first],
      ['second', second],
      ['third', third],
    ] as const)
      sending.then(
        () => settledOrder.push(`${name} ok`),
        () => settledOrder.push(`${name} failed`),
      );
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(third).resolves.toBeUndefined();
    expect(calls).toEqual([['a', 'b', 'c', 'd', 'e'], ['b']]);
    // The sends whose entries all landed in the first call did not wait for the retry of "b".
    expect(settledOrder.indexOf('third ok')).toBeLessThan(settledOrder.indexOf('first ok'));
  });

  it('sends the whole chunk again when the driver throws a retryable error (fate unknown)', async () => {
    const { driver, calls } = fakeDriver({ maxMessages: 10 }, (_ids, call) =>
      call === 1 ? retryable() : undefined,
    );
    const batcher = new PublishBatcher(driver, noop);
    await batcher.publish('t', [message('a'), message('b')], budget(5_000));
    expect(calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });
});

describe('callBatch', () => {
  it('gives up on retryable failed entries once the budget would be passed', async () => {
    const outcomes: [number, string | undefined][] = [];
    await callBatch(
      ['a', 'b'],
      async () => ({ failed: [{ index: 1, error: retryable() }] }),
      (error) => error as OmnibusError,
      budget(50),
      (index, error) => outcomes.push([index, error?.code]),
    );
    expect(outcomes.sort()).toEqual([
      [0, undefined],
      [1, 'Unavailable'],
    ]);
  });

  it('reports every entry failed when the call keeps throwing, and ignores indexes out of range', async () => {
    const outcomes: [number, string | undefined][] = [];
    await callBatch(
      ['a', 'b'],
      async () => {
        throw final();
      },
      (error) => error as OmnibusError,
      budget(1_000),
      (index, error) => outcomes.push([index, error?.code]),
    );
    expect(outcomes).toEqual([
      [0, 'InvalidArgument'],
      [1, 'InvalidArgument'],
    ]);
    const clean: number[] = [];
    await callBatch(
      ['a'],
      async () => ({ failed: [{ index: 7, error: final() }] }),
      (error) => error as OmnibusError,
      budget(1_000),
      (index, error) => {
        if (error === undefined) clean.push(index);
      },
    );
    expect(clean).toEqual([0]);
  });
});

describe('splitBatch', () => {
  it('returns the entries themselves when they fit, else chunks within the limit', () => {
    const entries = [1, 2, 3, 4, 5];
    expect(splitBatch(entries, { maxMessages: 5 })[0]).toBe(entries);
    expect(splitBatch(entries, { maxMessages: 2 })).toEqual([[1, 2], [3, 4], [5]]);
    expect(splitBatch(entries, { maxMessages: 10, maxBytes: 6 }, (entry) => entry)).toEqual([
      [1, 2, 3],
      [4],
      [5],
    ]);
  });
});
