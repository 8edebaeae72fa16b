// dlq count, list, show, redrive (filtered, dry run, loop guard) and purge (ids from stdin), as the built binary, on two hundred dead letters.
import type { Bus } from '@omnibus/core';
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { deadLetterByParity } from './test-support/dead-letter-by-parity.js';
import { BROKERS, records, uniquePrefix } from './test-support/run-cli.js';

const LETTERS = 200;
const TOPIC = 'payments';
const SUBSCRIPTION = 'ledger';
const REASON_A = 'reason A: upstream timeout';
const REASON_B = 'reason B: schema mismatch';

/** Dead-letters what the subscription holds, as a worker would: even n with reason A, odd with B. */
const deadLetterAll = (bus: Bus) =>
  deadLetterByParity(bus, TOPIC, SUBSCRIPTION, [REASON_A, REASON_B], LETTERS);

describe.each(BROKERS)('$name', ({ name, url }) => {
  const session = brokerSession(url, uniquePrefix(`d${name.slice(0, 1)}`), {
    created: { [TOPIC]: [SUBSCRIPTION] },
    async setUp(bus) {
      await bus.declare(TOPIC, { [SUBSCRIPTION]: {} });
      const entries = Array.from({ length: LETTERS }, (_, n) => ({
        body: { n },
        id: `pay-${String(n).padStart(3, '0')}`,
        attributes: { tenant: 'acme' },
      }));
      await bus.producer(TOPIC).sendBatch(entries);
      await deadLetterAll(bus);
    },
  });
  const { cli } = session;

  it('count, list (filtered, limited) and show: reason, attempts, failure time', async (context) => {
    session.requireBroker(context);
    const count = await cli(['dlq', 'count', TOPIC, SUBSCRIPTION, '--json']);
    expect(records(count.stdout)).toEqual([
      { topic: TOPIC, subscription: SUBSCRIPTION, count: LETTERS, approximate: false },
    ]);

    const listed = await cli([
      'dlq',
      'list',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'REASON a',
      '--limit',
      '5',
      '--json',
    ]);
    const letters = records(listed.stdout);
    expect(letters).toHaveLength(5);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: REASON_A,
        attempts: 1,
        redrives: 0,
        attributes: { tenant: 'acme' },
      });
      expect(Date.parse(String(letter.deadLetteredAt))).toBeGreaterThan(Date.now() - 600_000);
    }
    expect(listed.code).toBe(0);

    const table = await cli(['dlq', 'list', TOPIC, SUBSCRIPTION, '--reason', '/schema/']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +FAILED AT +ATTEMPTS +REDRIVES +KEY +REASON$/);
    expect(lines).toHaveLength(51); // the header and the default --limit of 50
    expect(lines[1]).toMatch(/^pay-\d{3} +\S+Z +1 +0 +reason B: schema mismatch$/);
    expect(table.stderr).toMatch(/showing the first 50: --limit N for more/);

    const shown = await cli(['dlq', 'show', TOPIC, SUBSCRIPTION, '--id', 'pay-007']);
    expect(shown.stdout).toMatch(/^pay-007\n/);
    expect(shown.stdout).toMatch(/reason +reason B: schema mismatch/);
    expect(shown.stdout).toMatch(/attempts +1/);
    expect(shown.stdout).toMatch(/attributes +tenant=acme/);
    expect(shown.stdout).toMatch(/body +\{"n":7\}/);
    expect(shown.code).toBe(0);
  });

  it('redrive with a filter: --dry-run prints exactly what it would do and changes nothing; then --yes does it', async (context) => {
    session.requireBroker(context);
    const dry = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'upstream timeout',
      '--dry-run',
      '--json',
    ]);
    const planned = records(dry.stdout);
    const summary = planned.pop();
    expect(planned).toHaveLength(LETTERS / 2);
    expect(new Set(planned.map((result) => result.outcome))).toEqual(new Set(['would-redrive']));
    expect(planned.every((result) => Number(String(result.id).slice(4)) % 2 === 0)).toBe(true);
    expect(summary).toEqual({
      summary: expect.objectContaining({
        action: 'redrive',
        dryRun: true,
        matched: LETTERS / 2,
        scanned: LETTERS,
        redriven: 0,
      }),
    });
    expect(dry.code).toBe(0);

    const human = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'upstream timeout',
      '--dry-run',
      '--limit',
      '3',
    ]);
    // Oldest first: the worker dead-lettered them concurrently, so not necessarily in n order.
    expect(human.stdout.trimEnd().split('\n')).toEqual(
      Array(3).fill(
        expect.stringMatching(
          /^would-redrive +pay-\d{3} +attempts 1 +redrives 0 +reason A: upstream timeout$/,
        ),
      ),
    );
    expect(human.stderr).toMatch(/dry run: would redrive 3, refused 0, failed 0/);

    const refused = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'upstream timeout',
    ]);
    expect(refused.stderr).toMatch(/refusing to redrive without --yes/);
    expect(refused.code).toBe(2);

    const count = await cli(['dlq', 'count', TOPIC, SUBSCRIPTION]);
    expect(count.stdout).toBe(`${LETTERS}\n`);

    const done = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'upstream timeout',
      '--yes',
      '--json',
    ]);
    const results = records(done.stdout);
    expect(results.pop()).toEqual({
      summary: expect.objectContaining({ dryRun: false, redriven: LETTERS / 2, failed: 0 }),
    });
    expect(results.map((result) => result.id)).toEqual(planned.map((result) => result.id));
    expect(done.code).toBe(0);

    const stats = await cli(['stats', TOPIC, SUBSCRIPTION, '--json']);
    expect(records(stats.stdout)[0]).toMatchObject({
      waiting: LETTERS / 2,
      deadLettered: LETTERS / 2,
    });
  });

  it('the loop guard refuses letters redriven too often, says why, and exits 1', async (context) => {
    session.requireBroker(context);
    // The redriven half fails again in the worker and comes back with redrives = 1.
    await deadLetterAll(session.bus);
    const again = await cli(['dlq', 'list', TOPIC, SUBSCRIPTION, '--id', 'pay-000', '--json']);
    expect(records(again.stdout)).toEqual([
      expect.objectContaining({ id: 'pay-000', redrives: 1 }),
    ]);

    const guarded = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'upstream',
      '--max-redrives',
      '1',
      '--yes',
    ]);
    const lines = guarded.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(LETTERS / 2);
    expect(lines.every((line) => /^refused +pay-\d+ .*\(.+\)$/.test(line))).toBe(true);
    expect(guarded.stderr).toMatch(new RegExp(`redriven 0, refused ${LETTERS / 2}, failed 0`));
    expect(guarded.stderr).toMatch(/loop guard/);
    expect(guarded.code).toBe(1);
  });

  it('purge by ids piped in from list --json', async (context) => {
    session.requireBroker(context);
    const listed = await cli([
      'dlq',
      'list',
      TOPIC,
      SUBSCRIPTION,
      '--reason',
      'schema',
      '--limit',
      '10',
      '--json',
    ]);
    const ids = records(listed.stdout).map((letter) => letter.id);
    const purged = await cli(
      ['dlq', 'purge', TOPIC, SUBSCRIPTION, '--id', '-', '--rate', '100', '--yes', '--json'],
      listed.stdout,
    );
    const results = records(purged.stdout);
    expect(results.pop()).toEqual({
      summary: expect.objectContaining({ action: 'purge', purged: 10, matched: 10 }),
    });
    expect(results.map((result) => [result.id, result.outcome])).toEqual(
      ids.map((id) => [id, 'purged']),
    );
    expect(purged.code).toBe(0);

    const window = await cli([
      'dlq',
      'purge',
      TOPIC,
      SUBSCRIPTION,
      '--failed-before',
      '1h',
      '--dry-run',
    ]);
    expect(window.stdout).toBe('');
    expect(window.stderr).toMatch(/would purge 0, .*matched 0 of \d+ scanned/);
    expect((await cli(['dlq', 'count', TOPIC, SUBSCRIPTION])).stdout).toBe(`${LETTERS - 10}\n`);
  });

  it('an --id that is not in the DLQ gets a not-found result and exit 1', async (context) => {
    session.requireBroker(context);
    const listed = await cli(['dlq', 'list', TOPIC, SUBSCRIPTION, '--limit', '1', '--json']);
    const present = String(records(listed.stdout)[0]?.id);
    const json = await cli([
      'dlq',
      'purge',
      TOPIC,
      SUBSCRIPTION,
      '--id',
      present,
      '--id',
      'never-dead-lettered',
      '--dry-run',
      '--json',
    ]);
    const results = records(json.stdout);
    expect(results.pop()).toEqual({
      summary: expect.objectContaining({ matched: 1, notFound: 1 }),
    });
    expect(results.map((result) => [result.id, result.outcome])).toEqual([
      [present, 'would-purge'],
      ['never-dead-lettered', 'not-found'],
    ]);
    expect(json.code).toBe(1);

    const human = await cli([
      'dlq',
      'redrive',
      TOPIC,
      SUBSCRIPTION,
      '--id',
      'never-dead-lettered',
      '--yes',
    ]);
    expect(human.stdout).toBe('not-found     never-dead-lettered  not in the DLQ\n');
    expect(human.stderr).toMatch(/redriven 0, .*not found 1/);
    expect(human.code).toBe(1);
  });
});
