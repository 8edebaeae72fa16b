// Core's selective DLQ admin over memory: paging, pacing, the cursor's lifetime and bulk redrive's count.
import { type Bus, connect, type DeadLetterResult } from '@omnibus/core';
import type { DeadLetterCursor, DriverV2, HeldDeadLetter } from '@omnibus/core/driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memory } from './index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** memory with a settle batch of `settleMax`, and a log of every cursor call core makes. */
function spiedCursor(settleMax = 1_000) {
  const inner = memory();
  const calls: { verb: 'open' | 'next' | 'redrive' | 'discard' | 'close'; size: number }[] = [];
  const driver: DriverV2 = {
    ...inner,
    capabilities: {
      ...inner.capabilities,
      batch: { ...inner.capabilities.batch, settle: { maxMessages: settleMax } },
    },
    async openDeadLetters(ref, options) {
      calls.push({ verb: 'open', size: options.leaseMs });
      const cursor: DeadLetterCursor = await inner.openDeadLetters(ref, options);
      const log =
        (verb: 'redrive' | 'discard', call: DeadLetterCursor['redrive']) =>
        (letters: readonly HeldDeadLetter[]) => {
          calls.push({ verb, size: letters.length });
          return call(letters);
        };
      return {
        next: (maxMessages) => {
          calls.push({ verb: 'next', size: maxMessages });
          return cursor.next(maxMessages);
        },
        redrive: log('redrive', (letters) => cursor.redrive(letters)),
        discard: log('discard', (letters) => cursor.discard(letters)),
        close: () => {
          calls.push({ verb: 'close', size: 0 });
          return cursor.close();
        },
      };
    },
  };
  return { driver, calls };
}

/** `count` dead letters on orders/kitchen, dead-lettered in send order with reason `parked n`. */
async function deadLetters(bus: Bus, count: number): Promise<string[]> {
  const consumer = bus.consumer<{ n: number }>('orders', 'kitchen', { concurrency: 1 });
  await consumer.ready();
  const ids = await bus
    .producer<{ n: number }>('orders')
    .sendBatch(Array.from({ length: count }, (_, n) => ({ body: { n } })));
  const iterator = consumer.messages();
  for (let n = 0; n < count; n++) {
    const message = (await iterator.next()).value!;
    await message.deadLetter(`parked ${message.body.n}`);
  }
  await iterator.return?.();
  await consumer.stop();
  return ids;
}

describe('dlq.select over memory', () => {
  it('reads in pages within capabilities.batch.settle and settles each page in calls within it', async () => {
    const { driver, calls } = spiedCursor(7);
    const bus = await connect(driver);
    await deadLetters(bus, 20);
    const report = await bus.deadLetters('orders', 'kitchen').select().purge();
    expect(report.purged).toBe(20);
    expect(calls.filter((call) => call.verb === 'next').every((call) => call.size === 7)).toBe(
      true,
    );
    const discards = calls.filter((call) => call.verb === 'discard');
    expect(discards.map((call) => call.size)).toEqual([7, 7, 6]);
    expect(calls.filter((call) => call.verb === 'open')).toEqual([{ verb: 'open', size: 30_000 }]);
    expect(calls.at(-1)).toEqual({ verb: 'close', size: 0 });
    await bus.close();
  });

  it('ratePerSecond paces with timers: one second’s share acted on, then nothing until the clock moves', async () => {
    const { driver, calls } = spiedCursor();
    const bus = await connect(driver);
    await deadLetters(bus, 6);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const results: DeadLetterResult[] = [];
    const run = bus
      .deadLetters('orders', 'kitchen')
      .select()
      .purge({ ratePerSecond: 2, onResult: (result) => results.push(result) });
    await vi.advanceTimersByTimeAsync(0);
    expect(results).toHaveLength(2);
    // A page holds no more than half the 30 s lease allows: 2 letters/s × 15 s.
    expect(calls.find((call) => call.verb === 'next')?.size).toBe(30);
    await vi.advanceTimersByTimeAsync(999);
    expect(results).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(results).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results).toHaveLength(6);
    // The next page is read only when the rate allows acting again: it is empty, the run ends.
    await vi.advanceTimersByTimeAsync(1_000);
    const report = await run;
    expect(report.purged).toBe(6);
    expect(calls.filter((call) => call.verb === 'discard').map((call) => call.size)).toEqual([
      2, 2, 2,
    ]);
    await bus.close();
  });

  it('matches a global RegExp statelessly, combines where() with the rest, and reads nothing for ids: []', async () => {
    const { driver, calls } = spiedCursor();
    const bus = await connect(driver);
    const ids = await deadLetters(bus, 9);
    const dlq = bus.deadLetters<{ n: number }>('orders', 'kitchen');
    const listed = async (filter: Parameters<typeof dlq.select>[0]) =>
      (await dlq.select(filter).list()).map((letter) => letter.id);
    expect(await listed({ reason: /PARKED/gi })).toEqual(ids);
    expect(
      await listed({
        reason: 'Parked',
        where: (letter) => (letter.body as { n: number }).n % 2 === 0,
      }),
    ).toEqual(ids.filter((_, n) => n % 2 === 0));
    calls.length = 0;
    expect(await listed({ ids: [] })).toEqual([]);
    expect(calls.map((call) => call.verb)).toEqual(['open', 'close']);
    await expect(
      bus.deadLetters('orders', 'nobody').select({ ids: [] }).list(),
    ).rejects.toMatchObject({
      code: 'NotFound',
    });
    await bus.close();
  });

  it('a dry run is not paced, and a throwing where() still closes the cursor', async () => {
    const { driver, calls } = spiedCursor();
    const bus = await connect(driver);
    await deadLetters(bus, 3);
    const dlq = bus.deadLetters('orders', 'kitchen');
    const dry = await dlq.select().redrive({ dryRun: true, ratePerSecond: 0.001 });
    expect(dry.results.map((result) => result.outcome)).toEqual([
      'would-redrive',
      'would-redrive',
      'would-redrive',
    ]);
    await expect(
      dlq
        .select({
          where: () => {
            throw new Error('bug in the filter');
          },
        })
        .list(),
    ).rejects.toThrow('bug in the filter');
    expect(calls.filter((call) => call.verb === 'close')).toHaveLength(2);
    expect(await dlq.count()).toBe(3);
    await bus.close();
  });

  it('stops at a letter dead-lettered after the run started, leaving it for the next run', async () => {
    const inner = memory();
    let late: (() => Promise<unknown>) | undefined;
    // Dead-letters one more message once the run has started (and the clock has moved on).
    const driver: DriverV2 = {
      ...inner,
      async openDeadLetters(ref, options) {
        const opened = Date.now();
        while (Date.now() <= opened) await new Promise((resolve) => setTimeout(resolve, 1));
        await late?.();
        return inner.openDeadLetters(ref, options);
      },
    };
    const bus = await connect(driver);
    const ids = await deadLetters(bus, 3);
    const dlq = bus.deadLetters('orders', 'kitchen');
    const lateId = await bus.producer<{ n: number }>('orders').send({ n: 99 });
    const iterator = bus.consumer<{ n: number }>('orders', 'kitchen').messages();
    const message = (await iterator.next()).value!;
    late = () => message.deadLetter('late');
    const report = await dlq.select().redrive();
    late = undefined;
    await iterator.return?.();
    expect(report.results.map((result) => result.id)).toEqual(ids);
    expect(report.scanned).toBe(3);
    expect((await dlq.select().list()).map((letter) => letter.id)).toEqual([lateId]);
    await bus.close();
  });

  it('peek and list expose redrives: 0 at first, one more after each bulk or selected redrive', async () => {
    const bus = await connect(memory());
    const [id] = await deadLetters(bus, 1);
    const dlq = bus.deadLetters('orders', 'kitchen');
    expect((await dlq.peek())[0]!.redrives).toBe(0);
    const consumer = bus.consumer('orders', 'kitchen');
    await consumer.start((message) => message.deadLetter('again'));
    expect(await dlq.redrive()).toBe(1);
    await bus.settled();
    expect((await dlq.peek())[0]).toMatchObject({ id, redrives: 1, reason: 'again' });
    expect((await dlq.select().redrive()).redriven).toBe(1);
    await bus.settled();
    expect((await dlq.select().list())[0]).toMatchObject({ id, redrives: 2 });
    await bus.close();
  });
});

describe('topology delete over memory', () => {
  it('deleteTopic is refused while the topic has subscriptions, naming them', async () => {
    const bus = await connect(memory(), { prefix: 'p_' });
    await bus.declare('orders', { kitchen: {}, audit: {} });
    await expect(bus.deleteTopic('orders')).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringContaining('"p_kitchen", "p_audit"'),
    });
    expect(await bus.deleteSubscription('orders', 'kitchen')).toBe(true);
    expect(await bus.deleteSubscription('orders', 'audit')).toBe(true);
    expect(await bus.deleteTopic('orders')).toBe(true);
    await bus.close();
  });

  it('a consumer still running on a deleted subscription fails NotFound, and settled() does not wait for it', async () => {
    const errors: string[] = [];
    const bus = await connect(memory());
    const consumer = bus.consumer('orders', 'kitchen', {
      onError: (error) => errors.push(error.code),
    });
    await consumer.start(() => {});
    await bus.producer('orders').send({ n: 1 });
    await bus.settled();
    expect(await bus.deleteSubscription('orders', 'kitchen')).toBe(true);
    await bus.settled();
    await vi.waitFor(() => expect(errors).toContain('NotFound'));
    await consumer.stop();
    await bus.close();
  });
});
