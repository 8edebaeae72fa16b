// Selective DLQ admin (dlq.select): list, redrive and purge by ids, reason and failure time, with per-letter results.
import type { DeadLetterResult, DeadLetters, Message } from '@omnibus/core';
import { OmnibusError } from '@omnibus/core';
import type { DeadLetterCursor, DriverV2 } from '@omnibus/core/driver';
import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, range, type Suite, type TestKit } from './helpers.js';

interface Ticket {
  n: number;
}

/** What {@link fillDeadLetters} set up. */
interface Filled {
  readonly topic: string;
  readonly subscription: string;
  readonly dlq: DeadLetters<Ticket>;
  /** Ids in send order: `ids[n]` is the message whose body is `{ n }`. */
  readonly ids: string[];
  /** Ids by the reason they were dead-lettered with (`REASONS[n % 3]`), in send order. */
  readonly byReason: ReadonlyMap<string, string[]>;
}

const TIMEOUT = 'Timeout talking to payments';
const INVALID = 'invalid input: quantity must be positive';
const LOST = 'lost the coupon service';
const REASONS = [TIMEOUT, INVALID, LOST] as const;

/**
 * A topic and subscription whose DLQ holds `count` letters, dead-lettered one at a time in send
 * order with reasons cycling through {@link REASONS}, each sent with an attribute and, where
 * ordering is declared, an ordering key: what a redrive must keep.
 */
async function fillDeadLetters(t: TestKit, count: number): Promise<Filled> {
  const topic = t.name('topic');
  const subscription = t.name('sub');
  const consumer = t.bus.consumer<Ticket>(topic, subscription, consumerOptions({ concurrency: 1 }));
  await consumer.ready();
  const producer = t.bus.producer<Ticket>(topic);
  const ids = await producer.sendBatch(
    range(count).map((n) => ({
      body: { n },
      attributes: { ticket: `t-${n}` },
      ...(t.capabilities.ordering ? { orderingKey: `table-${n % 3}` } : {}),
    })),
  );
  const byReason = new Map<string, string[]>(
    REASONS.map((reason, index) => [reason, ids.filter((_, n) => n % REASONS.length === index)]),
  );
  const iterator = consumer.messages();
  for (const _ of range(count)) {
    const message = (await iterator.next()).value as Message<Ticket>;
    await message.deadLetter(REASONS[message.body.n % REASONS.length]!);
  }
  await iterator.return?.();
  await consumer.stop();
  const dlq = t.bus.deadLetters<Ticket>(topic, subscription);
  await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, count, `${count} dead letters`);
  return { topic, subscription, dlq, ids, byReason };
}

/** Selective admin reads the DLQ letter by letter: it needs a peek of some kind. */
function requiresSelect(t: TestKit): void {
  t.requires(t.capabilities.deadLetterAdmin.peek !== 'none', 'deadLetterAdmin.peek');
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

function outcomes(results: readonly DeadLetterResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
  return counts;
}

/**
 * `dlq.select(filter)`: list, redrive and purge of the letters a filter matches, with a result per
 * letter, dry runs that change nothing, the redrive-loop guard counted across real dead-letter →
 * redrive cycles, and runs that carry on past one letter's failure. Held to
 * `capabilities.deadLetterAdmin` as the rest of the DLQ tests are: counts eventually where
 * approximate, recorded attempts "at least" where reading is count-bumping.
 */
export function registerDeadLetterAdminTests(suite: Suite): void {
  describe('dead-letter admin', () => {
    suite.test(
      'select().list() finds letters by reason (case-insensitive text or RegExp), ids and limit, and leaves them in place',
      async (t) => {
        requiresSelect(t);
        const { dlq, ids, byReason } = await fillDeadLetters(t, 24);
        const listed = async (filter: Parameters<typeof dlq.select>[0]) =>
          (await dlq.select(filter).list()).map((letter) => letter.id);

        const all = await dlq.select().list();
        expect(sorted(all.map((letter) => letter.id))).toEqual(sorted(ids));
        const timeouts = byReason.get(TIMEOUT)!;
        expect(sorted(await listed({ reason: 'TIMEOUT talking' }))).toEqual(sorted(timeouts));
        expect(sorted(await listed({ reason: /^invalid input:/ }))).toEqual(
          sorted(byReason.get(INVALID)!),
        );
        const chosen = [ids[3]!, ids[10]!, ids[17]!];
        expect(sorted(await listed({ ids: [...chosen, 'no-such-id'] }))).toEqual(sorted(chosen));
        const limited = await listed({ limit: 5 });
        expect(limited).toHaveLength(5);
        expect(new Set(limited).size).toBe(5);

        const letter = all.find((candidate) => candidate.id === ids[4])!;
        expect(letter.body).toEqual({ n: 4 });
        expect(letter.attributes).toEqual({ ticket: 't-4' });
        expect(letter.reason).toBe(REASONS[4 % REASONS.length]);
        expect(letter.redrives).toBe(0);
        expect(letter.deadLetteredAt).toBeInstanceOf(Date);
        if (t.capabilities.ordering) expect(letter.orderingKey).toBe('table-1');
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, 24, 'the DLQ after listing');
      },
    );

    suite.test(
      'a message dead-lettered twice is two letters: select({ ids }).redrive() moves both, and the letters around them, with no id not-found',
      async (t) => {
        requiresSelect(t);
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const consumer = t.bus.consumer<Ticket>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        await consumer.ready();
        const producer = t.bus.producer<Ticket>(topic);
        const twice = t.name('twice');
        // The same id sent twice (at-least-once delivery makes such duplicates); a FIFO queue
        // deduplicates the second, so there the DLQ holds one letter of it.
        await producer.send({ n: 0 }, { id: twice });
        const between = await producer.send({ n: 1 });
        await producer.send({ n: 2 }, { id: twice });
        const sent = await producer.send({ n: 3 });
        const iterator = consumer.messages();
        const letters: string[] = [];
        while (!letters.includes(sent)) {
          const message = (await iterator.next()).value as Message<Ticket>;
          letters.push(message.id);
          await message.deadLetter(LOST);
        }
        await iterator.return?.();
        await consumer.stop();
        const dlq = t.bus.deadLetters<Ticket>(topic, subscription);
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, letters.length, 'dead letters');
        const selected = letters.filter((id) => id === twice || id === between);
        const report = await dlq.select({ ids: [twice, between] }).redrive();
        expect(report.notFound).toEqual([]);
        expect(report.redriven).toBe(selected.length);
        expect(sorted(report.results.map((result) => result.id))).toEqual(sorted(selected));
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          letters.length - selected.length,
          'the DLQ after the redrive',
        );
      },
    );

    suite.test(
      'select({ ids }).redrive() moves exactly those letters, reporting each, keeping attributes and ordering key; the rest stay; an id not in the DLQ is not-found',
      async (t) => {
        requiresSelect(t);
        const { topic, subscription, dlq, ids } = await fillDeadLetters(t, 20);
        const chosen = [ids[1]!, ids[6]!, ids[7]!, ids[13]!, ids[19]!];
        const missing = t.name('never-dead-lettered');
        const progress: DeadLetterResult[] = [];
        const report = await dlq
          .select({ ids: [...chosen, missing] })
          .redrive({ onResult: (result) => progress.push(result) });
        expect(report.notFound).toEqual([{ id: missing, outcome: 'not-found' }]);
        expect(report).toMatchObject({
          matched: 5,
          redriven: 5,
          purged: 0,
          refused: 0,
          failed: 0,
          dryRun: false,
        });
        expect(report.scanned).toBeGreaterThanOrEqual(5);
        expect(progress).toEqual(report.results);
        expect(sorted(report.results.map((result) => result.id))).toEqual(sorted(chosen));
        for (const result of report.results) {
          expect(result.outcome).toBe('redriven');
          const n = ids.indexOf(result.id);
          expect(result.reason).toBe(REASONS[n % REASONS.length]);
          t.expectLetterAttempts(result.attempts, 1, `attempts of ${result.id}`);
          expect(result.redrives).toBe(0);
          expect(result.deadLetteredAt).toBeInstanceOf(Date);
          expect(result.orderingKey).toBe(t.capabilities.ordering ? `table-${n % 3}` : undefined);
        }
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          15,
          'the DLQ after redriving 5 of 20',
        );

        const inbox = t.inbox<Ticket>();
        await t.consume(t.bus.consumer<Ticket>(topic, subscription, consumerOptions()), inbox);
        await inbox.waitForIds(chosen, 'the redriven letters');
        for (const id of chosen) {
          const [delivery] = inbox.of(id);
          const n = ids.indexOf(id);
          expect(delivery!.body).toEqual({ n });
          expect(delivery!.attributes).toEqual({ ticket: `t-${n}` });
          expect(delivery!.orderingKey).toBe(
            t.capabilities.ordering ? `table-${n % 3}` : undefined,
          );
          t.expectAttempts([delivery!.attempt], [1], `the first delivery of ${id} after redrive`);
        }
        const left = await dlq.select().list();
        expect(sorted(left.map((letter) => letter.id))).toEqual(
          sorted(ids.filter((id) => !chosen.includes(id))),
        );
        expect(inbox.uniqueIds()).toEqual(new Set(chosen));
      },
    );

    suite.test(
      'a dry run reports would-redrive / would-purge and changes nothing; purge by reason then deletes exactly the matches',
      async (t) => {
        requiresSelect(t);
        const { topic, subscription, dlq, ids, byReason } = await fillDeadLetters(t, 18);
        const invalid = byReason.get(INVALID)!;
        const dryRedrive = await dlq.select({ reason: 'invalid' }).redrive({ dryRun: true });
        expect(dryRedrive).toMatchObject({
          matched: 6,
          redriven: 0,
          refused: 0,
          failed: 0,
          dryRun: true,
        });
        expect(outcomes(dryRedrive.results)).toEqual({ 'would-redrive': 6 });
        expect(sorted(dryRedrive.results.map((result) => result.id))).toEqual(sorted(invalid));
        const dryPurge = await dlq.select({ reason: 'invalid' }).purge({ dryRun: true });
        expect(dryPurge).toMatchObject({ matched: 6, purged: 0, dryRun: true });
        expect(outcomes(dryPurge.results)).toEqual({ 'would-purge': 6 });
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          18,
          'the DLQ after two dry runs',
        );
        expect(sorted((await dlq.select().list()).map((letter) => letter.id))).toEqual(sorted(ids));

        // Nothing was redriven: a consumer gets only what is sent afterwards.
        const inbox = t.inbox<Ticket>();
        await t.consume(t.bus.consumer<Ticket>(topic, subscription, consumerOptions()), inbox);
        const sentinel = await t.bus.producer<Ticket>(topic).send({ n: -1 });
        await inbox.waitForIds([sentinel]);
        expect(inbox.ids()).toEqual([sentinel]);

        const purge = await dlq.select({ reason: /^invalid/ }).purge();
        expect(purge).toMatchObject({ matched: 6, purged: 6, failed: 0, dryRun: false });
        expect(outcomes(purge.results)).toEqual({ purged: 6 });
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          12,
          'the DLQ after purging 6 of 18',
        );
        const left = await dlq.select().list();
        expect(sorted(left.map((letter) => letter.id))).toEqual(
          sorted(ids.filter((id) => !invalid.includes(id))),
        );
        expect(left.every((letter) => letter.reason !== INVALID)).toBe(true);
        expect(inbox.ids()).toEqual([sentinel]);
      },
    );

    suite.test(
      'failedBefore / failedAfter select by dead-letter time: [failedAfter, failedBefore)',
      async (t) => {
        requiresSelect(t);
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const consumer = t.bus.consumer<Ticket>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        await consumer.ready();
        const producer = t.bus.producer<Ticket>(topic);
        const dlq = t.bus.deadLetters<Ticket>(topic, subscription);
        const iterator = consumer.messages();
        const deadLetterNext = async (count: number) => {
          for (const _ of range(count)) await (await iterator.next()).value!.deadLetter('parked');
        };
        const early = await producer.sendBatch(range(4).map((n) => ({ body: { n } })));
        await deadLetterNext(4);
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, 4, 'the early letters');
        const latestEarly = Math.max(
          ...(await dlq.select().list()).map((letter) => letter.deadLetteredAt.getTime()),
        );
        // The later letters must carry a later time: let the clock pass the early ones first.
        await t.waitFor(() => Date.now() > latestEarly + 1, 'the clock to pass the early letters');
        const late = await producer.sendBatch(range(4).map((n) => ({ body: { n: 10 + n } })));
        await deadLetterNext(4);
        await iterator.return?.();
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, 8, 'early and late letters');
        const all = await dlq.select().list();
        const lateTimes = all
          .filter((letter) => late.includes(letter.id))
          .map((letter) => letter.deadLetteredAt.getTime());
        expect(Math.min(...lateTimes)).toBeGreaterThan(latestEarly);
        const boundary = new Date(latestEarly + 1);
        const ids = async (filter: Parameters<typeof dlq.select>[0]) =>
          sorted((await dlq.select(filter).list()).map((letter) => letter.id));
        expect(await ids({ failedBefore: boundary })).toEqual(sorted(early));
        expect(await ids({ failedAfter: boundary })).toEqual(sorted(late));
        expect(await ids({ failedAfter: new Date(latestEarly), failedBefore: boundary })).toEqual(
          sorted(
            all
              .filter((letter) => letter.deadLetteredAt.getTime() === latestEarly)
              .map((letter) => letter.id),
          ),
        );
        const report = await dlq.select({ failedBefore: boundary }).purge();
        expect(report).toMatchObject({ matched: 4, purged: 4 });
        expect(await ids({})).toEqual(sorted(late));
      },
    );

    suite.test(
      'the redrive-loop guard refuses a letter redriven maxRedrives times, counted across real dead-letter → redrive cycles',
      async (t) => {
        requiresSelect(t);
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const consumer = t.bus.consumer<string>(topic, subscription, consumerOptions());
        await consumer.ready();
        const id = await t.bus
          .producer<string>(topic)
          .send('poison', { attributes: { kind: 'poison' } });
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox, (message) => message.deadLetter('still broken'));
        const dlq = t.bus.deadLetters<string>(topic, subscription);
        const oneDeadLetter = (what: string) =>
          t.waitFor(async () => (await dlq.count()) === 1, what);
        for (let cycle = 0; cycle < 2; cycle++) {
          await inbox.waitForCount(cycle + 1, `delivery ${cycle + 1}`);
          await oneDeadLetter(`dead letter ${cycle + 1}`);
          const [letter] = await dlq.select().list();
          expect(letter!.redrives, `redrives before redrive ${cycle + 1}`).toBe(cycle);
          if (cycle === 0) {
            // The bulk redrive counts too: both ways out of the DLQ bump `redrives`.
            expect(await dlq.redrive()).toBe(1);
            continue;
          }
          const report = await dlq.select({ ids: [id] }).redrive({ maxRedrives: 2 });
          expect(report).toMatchObject({ matched: 1, redriven: 1, refused: 0 });
          expect(report.results[0]!.redrives).toBe(cycle);
        }
        await inbox.waitForCount(3, 'the delivery after the second redrive');
        await oneDeadLetter('the third dead letter');
        const [letter] = await t.peek(dlq);
        expect(letter!.redrives).toBe(2);
        expect(letter!.attributes).toEqual({ kind: 'poison' });

        const refused = await dlq.select().redrive({ maxRedrives: 2 });
        expect(refused).toMatchObject({ matched: 1, redriven: 0, refused: 1, failed: 0 });
        expect(refused.results[0]).toMatchObject({ id, outcome: 'refused', redrives: 2 });
        expect(refused.results[0]!.detail).toMatch(/redriven 2 times.*maxRedrives 2/);
        const dry = await dlq.select().redrive({ maxRedrives: 2, dryRun: true });
        expect(outcomes(dry.results)).toEqual({ refused: 1 });
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, 1, 'the DLQ after a refusal');
        // The default guard is 3: one more redrive goes, and the one after it is refused.
        expect(await dlq.select().redrive()).toMatchObject({ redriven: 1, refused: 0 });
        await inbox.waitForCount(4, 'the delivery after the third redrive');
        await oneDeadLetter('the fourth dead letter');
        expect(await dlq.select().redrive()).toMatchObject({ redriven: 0, refused: 1 });
        expect(inbox.uniqueIds()).toEqual(new Set([id]));
      },
    );

    suite.test(
      'a redrive run ends while consumers dead-letter what it redrives, acting on each letter once',
      async (t) => {
        requiresSelect(t);
        const { topic, subscription, dlq, ids } = await fillDeadLetters(t, 6);
        const inbox = t.inbox<Ticket>();
        await t.consume(
          t.bus.consumer<Ticket>(topic, subscription, consumerOptions({ concurrency: 6 })),
          inbox,
          (message) => message.deadLetter('failed again'),
        );
        const report = await dlq.select().redrive();
        expect(report.redriven).toBe(6);
        expect(sorted(report.results.map((result) => result.id))).toEqual(sorted(ids));
        await inbox.waitForIds(ids, 'every redriven letter');
        await t.waitFor(async () => (await dlq.count()) === 6, 'the letters back in the DLQ');
        const again = await dlq.select().list();
        expect(
          again.every((letter) => letter.redrives === 1 && letter.reason === 'failed again'),
        ).toBe(true);
      },
    );

    suite.test(
      'a letter the broker refuses is reported failed and the run carries on; a retryable failure is retried',
      async (t) => {
        requiresSelect(t);
        const real = await t.driver();
        const refusals = { final: '', retryable: '', retried: 0 };
        const bus = await t.connectDriver(refusingCursor(real, refusals));
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const consumer = bus.consumer<Ticket>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        await consumer.ready();
        const ids = await bus
          .producer<Ticket>(topic)
          .sendBatch(range(6).map((n) => ({ body: { n } })));
        const iterator = consumer.messages();
        for (const _ of range(6)) await (await iterator.next()).value!.deadLetter('parked');
        await iterator.return?.();
        const dlq = bus.deadLetters<Ticket>(topic, subscription);
        await t.expectDeadLetterCount(dlq as DeadLetters<unknown>, 6, 'six dead letters');
        refusals.final = ids[2]!;
        refusals.retryable = ids[4]!;
        const report = await dlq.select().redrive();
        expect(report).toMatchObject({ matched: 6, redriven: 5, failed: 1 });
        const failed = report.results.find((result) => result.outcome === 'failed')!;
        expect(failed.id).toBe(ids[2]);
        expect(failed.error).toBeDefined();
        expect(OmnibusError.isInstance(failed.error)).toBe(true);
        expect(failed.error!.code).toBe('PermissionDenied');
        expect(failed.detail).toContain('refused by the test');
        expect(refusals.retried).toBe(1);
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          1,
          'the refused letter, still there',
        );
        expect((await dlq.select().list()).map((letter) => letter.id)).toEqual([ids[2]]);
      },
    );

    suite.test(
      'an abort stops the run between actions and resolves with what was done',
      async (t) => {
        requiresSelect(t);
        const { dlq } = await fillDeadLetters(t, 5);
        const controller = new AbortController();
        const report = await dlq.select().purge({
          // One letter per second: the first goes at once, the abort comes before the second.
          ratePerSecond: 1,
          signal: controller.signal,
          onResult: () => controller.abort(),
        });
        expect(report).toMatchObject({ matched: 1, purged: 1 });
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          4,
          'the DLQ after an aborted purge',
        );
        const paced = await dlq.select({ limit: 2 }).purge({ ratePerSecond: 1_000 });
        expect(paced).toMatchObject({ matched: 2, purged: 2 });
        await t.expectDeadLetterCount(
          dlq as DeadLetters<unknown>,
          2,
          'the DLQ after a paced purge',
        );
      },
    );

    suite.test(
      'bad filters and options throw InvalidArgument before any I/O; a subscription that does not exist rejects NotFound',
      async (t) => {
        // Never created: a call that reached the broker would say NotFound, not InvalidArgument.
        const dlq = t.bus.deadLetters(t.name('topic'), t.name('sub'));
        const bad: [string, () => unknown][] = [
          ['limit 0', () => dlq.select({ limit: 0 })],
          ['limit 2.5', () => dlq.select({ limit: 2.5 })],
          ['a number among ids', () => dlq.select({ ids: ['a', 7 as unknown as string] })],
          ['ids not an array', () => dlq.select({ ids: 'abc' as unknown as string[] })],
          ['an empty reason', () => dlq.select({ reason: '' })],
          ['an invalid date', () => dlq.select({ failedBefore: new Date(Number.NaN) })],
          [
            'failedAfter after failedBefore',
            () => dlq.select({ failedAfter: new Date(2_000), failedBefore: new Date(1_000) }),
          ],
          ['where not a function', () => dlq.select({ where: true as unknown as () => boolean })],
          ['ratePerSecond 0', () => dlq.select().redrive({ ratePerSecond: 0 })],
          ['ratePerSecond -1', () => dlq.select().purge({ ratePerSecond: -1 })],
          ['maxRedrives 0', () => dlq.select().redrive({ maxRedrives: 0 })],
          [
            'dryRun not a boolean',
            () => dlq.select().purge({ dryRun: 'yes' as unknown as boolean }),
          ],
          // Misspelt keys: read as absent, the first would purge for real, the second select all.
          ['purge({ dryrun })', () => dlq.select().purge({ dryrun: true } as never)],
          ['select({ id })', () => dlq.select({ id: ['x'] } as never)],
          ['purge({ maxRedrives })', () => dlq.select().purge({ maxRedrives: 2 } as never)],
        ];
        for (const [what, call] of bad) await expectOmnibusError(call, ['InvalidArgument'], what);
        await expectOmnibusError(
          () => dlq.select().list(),
          ['NotFound', 'Unsupported'],
          'list of a subscription never created',
        );
        await expectOmnibusError(
          () => dlq.select().redrive({ dryRun: true }),
          ['NotFound', 'Unsupported'],
          'redrive of a subscription never created',
        );
      },
    );
  });
}

/**
 * `real`, whose DLQ cursor refuses to redrive the letter with id `refusals.final` (for good) and
 * the one with id `refusals.retryable` (once, retryably), as a broker's per-entry batch failures do.
 */
function refusingCursor(
  real: DriverV2,
  refusals: { final: string; retryable: string; retried: number },
): DriverV2 {
  const openDeadLetters: DriverV2['openDeadLetters'] = async (ref, options) => {
    const cursor: DeadLetterCursor = await real.openDeadLetters(ref, options);
    let refusedOnce = false;
    return {
      next: (maxMessages) => cursor.next(maxMessages),
      discard: (letters) => cursor.discard(letters),
      close: () => cursor.close(),
      async redrive(letters) {
        const failed: { index: number; error: unknown }[] = [];
        letters.forEach((letter, index) => {
          if (letter.id === refusals.final) {
            failed.push({
              index,
              error: new OmnibusError('PermissionDenied', 'refused by the test'),
            });
          } else if (letter.id === refusals.retryable) {
            if (refusedOnce) refusals.retried++;
            else {
              refusedOnce = true;
              failed.push({
                index,
                error: new OmnibusError('Unavailable', 'throttled by the test', {
                  retryable: true,
                }),
              });
            }
          }
        });
        const refused = new Set(failed.map((entry) => entry.index));
        const result = await cursor.redrive(letters.filter((_, index) => !refused.has(index)));
        // Map the inner call's indices (over the letters passed on) back to ours.
        const passed = letters.map((_, index) => index).filter((index) => !refused.has(index));
        for (const entry of result?.failed ?? [])
          failed.push({ index: passed[entry.index]!, error: entry.error });
        return failed.length === 0 ? undefined : { failed };
      },
    };
  };
  // A proxy rather than a spread, so a driver built as a class keeps its methods and `this`.
  return new Proxy(real, {
    get(target, key) {
      if (key === 'openDeadLetters') return openDeadLetters;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
