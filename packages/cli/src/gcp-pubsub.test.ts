// Google Pub/Sub (on the emulator): every command as the built binary. Pub/Sub can't count a
// backlog (stats: waiting and in flight unknown, dead letters approximate), reads a DLQ by pulling
// it (count-bumping: warned first), redrives to the topic and has no delayed delivery.
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { deadLetterByParity } from './test-support/dead-letter-by-parity.js';
import { records, uniquePrefix, waitForStderr } from './test-support/run-cli.js';

const EMULATOR_HOST = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
// Any project id works on the emulator.
const URL_ = 'gcppubsub://omnibus-cli-test';
const ENV = { PUBSUB_EMULATOR_HOST: EMULATOR_HOST, METADATA_SERVER_DETECTION: 'none' };
const LETTERS = 10;

describe('gcp-pubsub (emulator)', () => {
  const session = brokerSession(URL_, uniquePrefix('ps'), {
    reachableAt: `http://${EMULATOR_HOST}`,
    env: ENV,
    created: { payments: ['ledger'], orders: ['kitchen', 'audit'], signals: [] },
    async setUp(bus) {
      await bus.declare('payments', { ledger: {} });
      await bus.producer('payments').sendBatch(
        Array.from({ length: LETTERS }, (_, n) => ({
          body: { n },
          id: `pay-${n}`,
          attributes: { tenant: 'acme' },
        })),
      );
      const reasons = ['reason A: timeout', 'reason B: schema'] as const;
      await deadLetterByParity(bus, 'payments', 'ledger', reasons, LETTERS);
    },
  });
  const { cli } = session;

  it('declare, publish (argument, NDJSON, raw), stats as the adapter declares them, tail a subscription', async (context) => {
    session.requireBroker(context);
    const declared = await cli(['declare', 'orders', 'kitchen', 'audit', '--max-attempts', '3']);
    expect(declared.stdout).toBe('declared orders: kitchen, audit\n');
    expect(declared.code).toBe(0);

    const one = await cli(['publish', 'orders', '{"item":"burger"}', '--id', 'order-1']);
    expect(one.stdout).toBe('order-1\n');
    expect(one.code).toBe(0);
    const lines = `${JSON.stringify({ body: { item: 'fries' }, key: 'c-1', id: 'order-2' })}\n`;
    const many = await cli(['publish', 'orders', '--json'], lines);
    expect(records(many.stdout)).toEqual([{ id: 'order-2', line: 1 }]);
    expect(many.code).toBe(0);
    const raw = await cli(['publish', 'orders', '--raw'], 'raw line\n');
    expect(raw.stdout).toMatch(/^\S+\n$/);
    expect(raw.code).toBe(0);

    // Pub/Sub has no delayed delivery (capabilities.delayedDelivery is false): refused before I/O.
    const delayed = await cli(['publish', 'orders', '1', '--delay', '5s']);
    expect(delayed.stderr).toMatch(/^error: Unsupported: /);
    expect(delayed.stdout).toBe('');
    expect(delayed.code).toBe(2);

    // No backlog API: waiting and in flight are unknown, never guessed; dead letters approximate.
    const stats = await cli(['stats', 'orders', 'kitchen', '--json']);
    expect(records(stats.stdout)).toEqual([
      {
        topic: 'orders',
        subscription: 'kitchen',
        waiting: null,
        inFlight: null,
        deadLettered: 0,
        unknown: ['waiting', 'inFlight'],
        approximate: ['deadLettered'],
      },
    ]);
    expect(stats.code).toBe(0);
    const table = await cli(['stats', 'orders', 'audit']);
    expect(table.stdout.split('\n')[1]).toMatch(/^orders +audit +unknown +unknown +~0$/);
    expect(table.stderr).toMatch(/~ marks the broker's estimates: deadLettered/);
    expect(table.stderr).toMatch(/gcp-pubsub cannot tell: waiting, inFlight/);
    expect(table.code).toBe(0);

    const drained = await cli([
      'tail',
      'orders',
      'audit',
      '--count',
      '3',
      '--max-attempts',
      '3',
      '--json',
    ]);
    const printed = records(drained.stdout);
    expect(printed.map((message) => message.id).sort()).toEqual(
      ['order-1', 'order-2', raw.stdout.trim()].sort(),
    );
    expect(printed.find((message) => message.id === 'order-2')).toMatchObject({
      body: { item: 'fries' },
      orderingKey: 'c-1',
    });
    expect(printed.find((message) => message.id === raw.stdout.trim())).toMatchObject({
      body: 'raw line',
      bodyEncoding: 'utf8',
    });
    expect(drained.code).toBe(0);

    const deleted = await cli(['delete', 'orders', 'audit', '--yes']);
    expect(deleted.stdout).toBe('deleted subscription audit of orders\n');
    expect(deleted.code).toBe(0);
    const gone = await cli(['delete', 'orders', 'audit', '--yes']);
    expect(gone.stderr).toMatch(/^error: no subscription audit of orders: nothing deleted$/m);
    expect(gone.code).toBe(1);
  });

  it('tail prints what arrives through a temporary subscription, removed on exit', async (context) => {
    session.requireBroker(context);
    const tail = session.start(['tail', 'signals', '--count', '1', '--json']);
    await waitForStderr(tail, /tailing signals through temporary subscription/, 'tail ready');
    const temporary = /temporary subscription ([\w-]+)/.exec(tail.stderr())?.[1] ?? '';
    const sent = await cli(['publish', 'signals', '{"n":1}', '--attr', 'kind=test']);
    expect(sent.code).toBe(0);
    const result = await tail.done;
    expect(records(result.stdout)).toEqual([
      expect.objectContaining({
        id: sent.stdout.trim(),
        body: { n: 1 },
        attributes: { kind: 'test' },
      }),
    ]);
    expect(result.code).toBe(0);
    expect(await session.bus.deleteSubscription('signals', temporary)).toBe(false);
  });

  it('dlq count, list and show: approximate count, a warning that reading is a receive', async (context) => {
    session.requireBroker(context);
    const count = await cli(['dlq', 'count', 'payments', 'ledger', '--json']);
    expect(records(count.stdout)).toEqual([
      { topic: 'payments', subscription: 'ledger', count: LETTERS, approximate: true },
    ]);
    const human = await cli(['dlq', 'count', 'payments', 'ledger']);
    expect(human.stdout).toBe(`~${LETTERS}\n`);

    const listed = await cli([
      'dlq',
      'list',
      'payments',
      'ledger',
      '--reason',
      'reason a',
      '--json',
    ]);
    expect(listed.stderr).toMatch(/^warning: gcp-pubsub can read a DLQ only by receiving from it/);
    const letters = records(listed.stdout);
    expect(letters.map((letter) => letter.id).sort()).toEqual([
      'pay-0',
      'pay-2',
      'pay-4',
      'pay-6',
      'pay-8',
    ]);
    // Attempts are approximate on Pub/Sub: a count, not necessarily 1.
    for (const letter of letters)
      expect(letter).toMatchObject({
        reason: 'reason A: timeout',
        attempts: expect.any(Number),
        redrives: 0,
        attributes: { tenant: 'acme' },
      });
    expect(listed.code).toBe(0);

    const shown = await cli(['dlq', 'show', 'payments', 'ledger', '--id', 'pay-7']);
    expect(shown.stderr).toMatch(/^warning: gcp-pubsub can read a DLQ only by receiving/);
    expect(shown.stdout).toMatch(/^pay-7\n/);
    expect(shown.stdout).toMatch(/reason +reason B: schema/);
    expect(shown.stdout).toMatch(/body +\{"n":7\}/);
    expect(shown.code).toBe(0);
  });

  it('dlq redrive with a filter: --dry-run changes nothing; --yes redrives; purge by ids from stdin', async (context) => {
    session.requireBroker(context);
    const dry = await cli([
      'dlq',
      'redrive',
      'payments',
      'ledger',
      '--reason',
      '/^reason a/i',
      '--dry-run',
      '--json',
    ]);
    expect(dry.stderr).toMatch(/^warning: gcp-pubsub can read a DLQ only by receiving/);
    const planned = records(dry.stdout);
    expect(planned.pop()).toEqual({
      summary: expect.objectContaining({ dryRun: true, matched: 5, redriven: 0 }),
    });
    expect(new Set(planned.map((result) => result.outcome))).toEqual(new Set(['would-redrive']));
    expect(dry.code).toBe(0);
    expect((await cli(['dlq', 'count', 'payments', 'ledger'])).stdout).toBe(`~${LETTERS}\n`);

    const done = await cli([
      'dlq',
      'redrive',
      'payments',
      'ledger',
      '--reason',
      '/^reason a/i',
      '--yes',
    ]);
    expect(done.stderr).toMatch(/redriven 5, refused 0, failed 0/);
    expect(done.code).toBe(0);
    // A redrive re-publishes to the topic: the letters are back in ledger (its only subscription).
    expect((await cli(['dlq', 'count', 'payments', 'ledger'])).stdout).toBe(`~${LETTERS / 2}\n`);
    const back = await cli(['tail', 'payments', 'ledger', '--count', '5', '--json']);
    expect(
      records(back.stdout)
        .map((message) => message.id)
        .sort(),
    ).toEqual(planned.map((result) => result.id).sort());

    const listed = await cli(['dlq', 'list', 'payments', 'ledger', '--limit', '2', '--json']);
    const ids = records(listed.stdout).map((letter) => letter.id);
    expect(ids).toHaveLength(2);
    const purged = await cli(
      ['dlq', 'purge', 'payments', 'ledger', '--id', '-', '--yes', '--json'],
      listed.stdout,
    );
    const results = records(purged.stdout);
    expect(results.pop()).toEqual({
      summary: expect.objectContaining({ action: 'purge', purged: 2, matched: 2 }),
    });
    expect(results.map((result) => result.id).sort()).toEqual([...ids].sort());
    expect(purged.code).toBe(0);
    expect((await cli(['dlq', 'count', 'payments', 'ledger'])).stdout).toBe(
      `~${LETTERS / 2 - 2}\n`,
    );
  });

  it('doctor: the capabilities Pub/Sub declares, a round trip, cleaned up', async (context) => {
    session.requireBroker(context);
    const human = await cli(['doctor']);
    expect(human.stdout).toMatch(/✓ connect +\d+ ms {2}adapter gcp-pubsub/);
    expect(human.stdout).toMatch(/delayed delivery +no/);
    expect(human.stdout).toMatch(/attempts +approximate/);
    expect(human.stdout).toMatch(
      /stats +waiting unknown, inFlight unknown, deadLettered approximate/,
    );
    expect(human.stdout).toMatch(/dlq peek +count-bumping/);
    expect(human.stdout).toMatch(/dlq redrive +to the topic/);
    expect(human.stdout).toMatch(/✓ receive +\d+ ms {2}round trip \d+ ms/);
    expect(human.stdout).toMatch(/✓ clean up/);
    expect(human.code).toBe(0);

    const json = await cli(['doctor', '--json']);
    expect(records(json.stdout)[0]).toMatchObject({
      ok: true,
      adapter: 'gcp-pubsub',
      capabilities: { fanout: true, delayedDelivery: false },
    });
    expect(json.code).toBe(0);
  });
});
