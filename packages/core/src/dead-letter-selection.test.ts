// The not-found outcome of id-selected DLQ runs (report.notFound), over memory: when an id is said to be missing, and when not.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import type { Bus, DeadLetterResult, DeadLetters } from './types.js';

let bus: Bus;
let dlq: DeadLetters<{ n: number }>;
/** Ids of the 6 letters in the DLQ, in send order; letter n has reason `parked n`. */
let ids: string[];

beforeEach(async () => {
  bus = await connect('memory://');
  const consumer = bus.consumer<{ n: number }>('orders', 'kitchen', { concurrency: 1 });
  await consumer.ready();
  ids = await bus
    .producer<{ n: number }>('orders')
    .sendBatch(Array.from({ length: 6 }, (_, n) => ({ body: { n } })));
  const iterator = consumer.messages();
  for (let n = 0; n < 6; n++) {
    const message = (await iterator.next()).value!;
    await message.deadLetter(`parked ${message.body.n}`);
  }
  await iterator.return?.();
  await consumer.stop();
  dlq = bus.deadLetters('orders', 'kitchen');
});

afterEach(async () => {
  await bus.close();
});

describe('select({ ids }) reports the ids it did not find', () => {
  it('redrive and purge list each missing id once, in the order given, apart from the results', async () => {
    const progress: DeadLetterResult[] = [];
    const dry = await dlq
      .select({ ids: ['gone-2', ids[3]!, 'gone-1', 'gone-2'] })
      .purge({ dryRun: true, onResult: (result) => progress.push(result) });
    expect(dry.notFound).toEqual([
      { id: 'gone-2', outcome: 'not-found' },
      { id: 'gone-1', outcome: 'not-found' },
    ]);
    expect(dry.results.map((result) => [result.id, result.outcome])).toEqual([
      [ids[3], 'would-purge'],
    ]);
    expect(dry.matched).toBe(1);
    expect(progress).toEqual(dry.results);

    const redrive = await dlq.select({ ids: [ids[0]!, 'gone-1'] }).redrive();
    expect(redrive).toMatchObject({ matched: 1, redriven: 1 });
    expect(redrive.notFound).toEqual([{ id: 'gone-1', outcome: 'not-found' }]);
    // Redriven, it is no longer a dead letter: asked for again, it is not found.
    const again = await dlq.select({ ids: [ids[0]!] }).purge();
    expect(again).toMatchObject({ matched: 0, purged: 0 });
    expect(again.notFound).toEqual([{ id: ids[0], outcome: 'not-found' }]);
  });

  it('an id whose letter fails another criterion is neither matched nor not found', async () => {
    const report = await dlq
      .select({ ids: [ids[1]!, ids[2]!, 'gone'], reason: 'parked 2' })
      .purge({ dryRun: true });
    expect(report.results.map((result) => result.id)).toEqual([ids[2]]);
    expect(report.notFound).toEqual([{ id: 'gone', outcome: 'not-found' }]);
  });

  it('a run stopped by limit or by its signal says nothing is missing: it did not read the DLQ through', async () => {
    const limited = await dlq.select({ ids: [ids[0]!, ids[5]!, 'gone'], limit: 1 }).purge();
    expect(limited.results.map((result) => result.id)).toEqual([ids[0]]);
    expect(limited.notFound).toEqual([]);

    const controller = new AbortController();
    const aborted = await dlq.select({ ids: [ids[1]!, ids[4]!, 'gone'] }).purge({
      // One letter a second: the first goes at once, the abort comes before the second.
      ratePerSecond: 1,
      signal: controller.signal,
      onResult: () => controller.abort(),
    });
    expect(aborted).toMatchObject({ matched: 1, purged: 1 });
    expect(aborted.notFound).toEqual([]);
  });

  it('without ids, or with every id found, notFound is empty', async () => {
    expect((await dlq.select({ reason: 'parked' }).redrive({ dryRun: true })).notFound).toEqual([]);
    expect((await dlq.select({ ids: [ids[4]!, ids[1]!] }).purge()).notFound).toEqual([]);
    expect((await dlq.select({ ids: [] }).purge()).notFound).toEqual([]);
  });
});
