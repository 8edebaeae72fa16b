// declare, publish, stats, tail and doctor, run as the built binary against the shared Redis and RabbitMQ.
import { waitUntil } from '@omnibus/test-brokers';
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { BROKERS, records, uniquePrefix, waitForStderr } from './test-support/run-cli.js';

describe.each(BROKERS)('$name', ({ name, url }) => {
  const session = brokerSession(url, uniquePrefix(name.slice(0, 2)), {
    created: { orders: ['kitchen', 'audit'], signals: [], bytes: ['reader'], leftovers: [] },
  });
  const { cli } = session;

  it('declare creates the subscriptions, publish sends to them, stats counts them', async (context) => {
    session.requireBroker(context);
    const declared = await cli(['declare', 'orders', 'kitchen', 'audit', '--max-attempts', '3']);
    expect(declared.stdout).toBe('declared orders: kitchen, audit\n');
    expect(declared.code).toBe(0);

    const one = await cli([
      'publish',
      'orders',
      '{"item":"burger"}',
      '--attr',
      'source=cli',
      '--id',
      'order-1',
    ]);
    expect(one.stdout).toBe('order-1\n');
    expect(one.code).toBe(0);

    const lines = [
      JSON.stringify({ body: { item: 'fries' }, attributes: { source: 'replay' } }),
      '',
      JSON.stringify({ body: 'plain text', id: 'order-3' }),
    ].join('\n');
    const many = await cli(['publish', 'orders', '--json'], `${lines}\n`);
    const sent = records(many.stdout);
    expect(sent).toEqual([
      { id: expect.any(String), line: 1 },
      { id: 'order-3', line: 3 },
    ]);
    expect(many.code).toBe(0);

    const raw = await cli(['publish', 'orders', '--raw'], 'first line\nsecond line\n');
    expect(raw.stdout.trim().split('\n')).toHaveLength(2);
    expect(raw.code).toBe(0);

    const stats = await cli(['stats', 'orders', 'kitchen', '--json']);
    expect(records(stats.stdout)).toEqual([
      {
        topic: 'orders',
        subscription: 'kitchen',
        waiting: 5,
        inFlight: session.bus.capabilities.stats.inFlight ? 0 : null,
        deadLettered: 0,
        unknown: session.bus.capabilities.stats.inFlight ? [] : ['inFlight'],
        approximate: [],
      },
    ]);
    expect(stats.code).toBe(0);

    const table = await cli(['stats', 'orders', 'audit']);
    const [head, row] = table.stdout.split('\n');
    expect(head).toMatch(/^TOPIC +SUBSCRIPTION +WAITING +IN FLIGHT +DEAD-LETTERED$/);
    expect(row).toMatch(/^orders +audit +5 +(0|unknown) +0$/);
    // Not a terminal: no colour codes.
    expect(table.stdout).not.toContain('\u001b[');
    expect(table.code).toBe(0);

    // tail on an existing subscription reads (and acks) what it holds, given its settings.
    const mismatch = await cli(['tail', 'orders', 'audit', '--count', '1']);
    expect(mismatch.stderr).toMatch(/AlreadyExists: .*maxAttempts/);
    expect(mismatch.stderr).toMatch(/hint: give tail the subscription's settings/);
    expect(mismatch.code).toBe(1);
    const drained = await cli([
      'tail',
      'orders',
      'audit',
      '--count',
      '2',
      '--max-attempts',
      '3',
      '--json',
    ]);
    expect(records(drained.stdout).map((message) => message.id)).toEqual(['order-1', sent[0]?.id]);
    expect(drained.code).toBe(0);
  });

  it('a publish line that cannot be sent is reported by number; the others are sent; exit 1', async (context) => {
    session.requireBroker(context);
    const input = [
      '{"body":1}',
      'not json',
      '{"body":2,"attributes":{"x-reserved":"1"}}',
      '{"body":3}',
    ].join('\n');
    const result = await cli(['publish', 'signals'], `${input}\n`);
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/line 2: not JSON/);
    expect(result.stderr).toMatch(/line 3: InvalidArgument: .*x-reserved/);
    expect(result.stderr).toMatch(/2 line\(s\) not sent/);
    expect(result.code).toBe(1);
  });

  it('publish with only blank lines on stdin warns, like empty stdin: nothing sent', async (context) => {
    session.requireBroker(context);
    const empty = await cli(['publish', 'signals'], '');
    expect(empty.stderr).toMatch(/warning: stdin was empty: nothing sent/);
    expect(empty.stdout).toBe('');
    const blank = await cli(['publish', 'signals'], '\n  \n\n');
    expect(blank.stderr).toMatch(/warning: stdin had only blank lines: nothing sent/);
    expect(blank.stdout).toBe('');
    expect(blank.code).toBe(empty.code);
  });

  it('publish --json reports every line in input order, a line not sent in its place', async (context) => {
    session.requireBroker(context);
    const input = ['{"body":1,"id":"first"}', 'not json', '{"body":3,"id":"third"}'].join('\n');
    const result = await cli(['publish', 'signals', '--json'], `${input}\n`);
    expect(records(result.stdout)).toEqual([
      { id: 'first', line: 1 },
      { line: 2, error: expect.stringMatching(/^not JSON/) },
      { id: 'third', line: 3 },
    ]);
    expect(result.code).toBe(1);
  });

  it('publish --raw sends the bytes of each line as they are, not decoded; a CRLF ending is a line ending', async (context) => {
    session.requireBroker(context);
    expect((await cli(['declare', 'bytes', 'reader'])).code).toBe(0);
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const input = Buffer.concat([binary, Buffer.from('\nsecond\r\nlast, no newline')]);
    const published = await cli(['publish', 'bytes', '--raw'], input);
    expect(published.stdout.trim().split('\n')).toHaveLength(3);
    expect(published.code).toBe(0);
    const read = await cli(['tail', 'bytes', 'reader', '--count', '3', '--json']);
    expect(records(read.stdout).map(({ body, bodyEncoding }) => ({ body, bodyEncoding }))).toEqual([
      { body: binary.toString('base64'), bodyEncoding: 'base64' },
      { body: 'second', bodyEncoding: 'utf8' },
      { body: 'last, no newline', bodyEncoding: 'utf8' },
    ]);
  });

  it('tail names its temporary subscription first; one a killed tail left behind is removed with delete', async (context) => {
    session.requireBroker(context);
    const tail = session.start(['tail', 'leftovers']);
    await waitForStderr(tail, /tailing leftovers/, 'tail ready');
    const named =
      /^temporary subscription (omnibus-tail-[0-9a-f]{8}) of leftovers; if tail is killed before it removes it: omnibus delete leftovers \1 --prefix \S+ --yes$/m.exec(
        tail.stderr(),
      );
    expect(named).not.toBeNull();
    const leftover = named?.[1] ?? '';
    tail.child.kill('SIGKILL');
    await tail.done;

    const deleted = await cli(['delete', 'leftovers', leftover, '--yes']);
    expect(deleted.stdout).toBe(`deleted subscription ${leftover} of leftovers\n`);
    expect(deleted.code).toBe(0);
    const again = await cli(['delete', 'leftovers', leftover, '--yes', '--json']);
    expect(records(again.stdout)).toEqual([
      { topic: 'leftovers', subscription: leftover, deleted: false },
    ]);
    expect(again.stderr).toMatch(/error: no subscription .* of leftovers: nothing deleted/);
    expect(again.code).toBe(1);

    const topic = await cli(['delete', 'leftovers', '--yes']);
    expect(topic.stdout).toBe('deleted topic leftovers\n');
    expect(topic.code).toBe(0);
  });

  it('tail prints what arrives through a temporary subscription, removed on exit (--count)', async (context) => {
    session.requireBroker(context);
    const tail = session.start(['tail', 'signals', '--count', '2', '--json']);
    await waitForStderr(
      tail,
      /tailing signals through temporary subscription (omnibus-tail-[0-9a-f]+)/,
      'tail ready',
    );
    const temporary =
      /temporary subscription (omnibus-tail-[0-9a-f]+)/.exec(tail.stderr())?.[1] ?? '';
    await cli(['publish', 'signals', '{"n":1}', '--attr', 'kind=test']);
    await cli(['publish', 'signals', '--raw', 'raw body']);
    const result = await tail.done;
    expect(result.code).toBe(0);
    const printed = records(result.stdout);
    expect(printed).toEqual([
      expect.objectContaining({ body: { n: 1 }, attributes: { kind: 'test' }, attempt: 1 }),
      expect.objectContaining({ body: 'raw body', bodyEncoding: 'utf8' }),
    ]);
    // Removed on exit: nothing is left to delete.
    expect(await session.bus.deleteSubscription('signals', temporary)).toBe(false);
  });

  it('tail stops cleanly on Ctrl-C (SIGINT) and removes its subscription', async (context) => {
    session.requireBroker(context);
    const tail = session.start(['tail', 'signals']);
    await waitForStderr(tail, /tailing signals/, 'tail ready');
    const temporary =
      /temporary subscription (omnibus-tail-[0-9a-f]+)/.exec(tail.stderr())?.[1] ?? '';
    await cli(['publish', 'signals', '"before the interrupt"']);
    await waitUntil(
      () => tail.stdout().includes('before the interrupt'),
      'the message printed',
      20_000,
    );
    tail.child.kill('SIGINT');
    const result = await tail.done;
    expect(result.stderr).toMatch(/stopped after 1 message/);
    expect(result.stdout).toMatch(/^\S+Z {2}\S+ {2}"before the interrupt"\n$/);
    expect(result.code).toBe(130);
    expect(await session.bus.deleteSubscription('signals', temporary)).toBe(false);
  });

  it('doctor: capabilities, a round trip with its latency, cleaned up', async (context) => {
    session.requireBroker(context);
    const human = await cli(['doctor']);
    expect(human.stdout).toMatch(new RegExp(`✓ connect +\\d+ ms {2}adapter ${name}`));
    expect(human.stdout).toMatch(/dlq peek +non-destructive/);
    expect(human.stdout).toMatch(/✓ receive +\d+ ms {2}round trip \d+ ms/);
    expect(human.stdout).toMatch(/✓ clean up/);
    expect(human.stdout).toMatch(/ok: round trip in \d+ ms/);
    expect(human.code).toBe(0);

    const json = await cli(['doctor', '--json']);
    const report = records(json.stdout)[0] ?? {};
    expect(report).toMatchObject({ ok: true, adapter: name, latencyMs: expect.any(Number) });
    expect((report.steps as { step: string }[]).map((step) => step.step)).toEqual([
      'connect',
      'declare',
      'subscribe',
      'publish',
      'receive',
      'clean up',
    ]);
    expect(json.code).toBe(0);
  });
});
