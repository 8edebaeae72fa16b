// The adapter's own behaviour on the shared Redis: plain-client interop, scheduling, trimming, reclaim, the backstop, redrive, stats, URLs.

import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { type Bus, connect, OmnibusError } from '@omnibus/core';
import type { SubscriptionSpec } from '@omnibus/core/driver';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { classifyRedisError, fromUrl, redis, subscriptionKeys, topicKeys } from './index.js';
import { REDRIVE } from './scripts/redrive-batch.js';
import { waitFor } from './test-support/harness.js';
import { deleteKeys, REDIS_URL, redisUnavailable } from './test-support/redis-server.js';

const unavailable = await redisUnavailable();
const suite = unavailable === undefined ? describe : describe.skip;

function prefix(): string {
  return `a${randomBytes(5).toString('hex')}-`;
}

describe('classifyRedisError (one lookup table)', () => {
  it.each([
    ['NOGROUP No such key', 'NotFound', true],
    ['WRONGPASS invalid username-password pair', 'Unauthenticated', false],
    ['NOAUTH Authentication required.', 'Unauthenticated', false],
    ["NOPERM this user has no permissions to run the 'xadd' command", 'PermissionDenied', false],
    ['OOM command not allowed when used memory > maxmemory', 'Unavailable', true],
    ['LOADING Redis is loading the dataset in memory', 'Unavailable', true],
    ['Connection is closed.', 'Unavailable', true],
    ['CLUSTERDOWN The cluster is down', 'Unavailable', true],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'AlreadyExists', false],
    ['MOVED 3999 127.0.0.1:6381', 'Config', false],
    ['NOPROTO unsupported protocol version', 'Unsupported', false],
    ["ERR unknown subcommand 'LAG'. Try XINFO HELP.", 'Unsupported', false],
    ['Unknown RESP type 65 "A". Please report this.', 'Config', false],
    ['Protocol error, got "H" as reply type byte', 'Config', false],
    ['ERR invalid password', 'Unauthenticated', false],
    [
      'ERR AUTH <password> called without any password configured for the default user.',
      'Config',
      false,
    ],
    ['ERR DB index is out of range', 'Config', false],
    ['ERR SELECT is not allowed in cluster mode', 'Config', false],
    ['ERR This instance has cluster support disabled', 'Config', false],
    ['ERR string exceeds maximum allowed size (proto-max-bulk-len)', 'MessageTooLarge', false],
    [
      'ERR The stream has exhausted the last possible ID, unable to add more items',
      'Internal',
      false,
    ],
    ['ERR value is not an integer or out of range', 'InvalidArgument', false],
    ['Command timed out', 'Timeout', true],
    ["READONLY You can't write against a read only replica.", 'Unavailable', true],
    [
      'ERR Error running script (call to f_x): @user_script:1: NOGROUP No such key',
      'NotFound',
      true,
    ],
  ])('%s → %s', (message, code, retryable) => {
    expect(classifyRedisError(new Error(message))).toMatchObject({ code, retryable });
  });

  it('maps socket errors by their code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    expect(classifyRedisError(refused)).toMatchObject({ code: 'Unavailable', retryable: true });
  });

  it.each([
    ['EPROTO', 'Config', false],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'Config', false],
    ['CERT_HAS_EXPIRED', 'Config', false],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'Config', false],
    ['ECONNABORTED', 'Unavailable', true],
  ])('Node error code %s → %s', (code, expected, retryable) => {
    const error = Object.assign(new Error(`socket failed (${code})`), { code });
    expect(classifyRedisError(error)).toMatchObject({ code: expected, retryable });
  });

  it('leaves unknown errors to core (Internal)', () => {
    expect(classifyRedisError(new Error('something else'))).toBeUndefined();
  });

  it('blanks the password ioredis attaches to a failed AUTH/HELLO command', () => {
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'bob', 'hunter2'] },
    });
    classifyRedisError(error);
    expect(inspect(error, { depth: 5 })).not.toContain('hunter2');
  });
});

suite('redis adapter', () => {
  const admin = new Redis(REDIS_URL);
  const buses: Bus[] = [];
  const prefixes: string[] = [];

  async function open(
    options: Parameters<typeof redis>[0] = {},
  ): Promise<{ bus: Bus; prefix: string }> {
    const p = prefix();
    prefixes.push(p);
    const bus = await connect(redis({ url: REDIS_URL, ...options }), { prefix: p });
    buses.push(bus);
    return { bus, prefix: p };
  }

  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((bus) => bus.close()));
    for (const p of prefixes.splice(0)) await deleteKeys(admin, `omnibus:{${p}*`);
  });
  afterAll(() => {
    admin.disconnect();
  });

  it('a plain client XADDing body and fields is consumed, with the stream id as message id', async () => {
    const { bus, prefix: p } = await open();
    const consumer = bus.consumer<{ item: string }>('orders', 'kitchen');
    await consumer.ready();
    const stream = topicKeys('omnibus:', `${p}orders`).stream;
    const streamId = (await admin.xadd(stream, '*', 'body', '{"item":"Burger"}', 'source', 'cli'))!;
    const iterator = consumer.messages();
    const message = (await iterator.next()).value!;
    expect(message.id).toBe(streamId);
    expect(message.body).toEqual({ item: 'Burger' });
    expect(message.attributes).toEqual({ source: 'cli' });
    expect(message.attempt).toBe(1);
    expect(message.publishedAt.getTime()).toBe(Number(streamId.split('-')[0]));
    await message.ack();
    await iterator.return?.();
  });

  it('what Omnibus sends is a plain stream entry: body bytes and attributes as fields', async () => {
    const { bus, prefix: p } = await open();
    const id = await bus
      .producer('orders')
      .send({ item: 'Fries' }, { attributes: { source: 'web', body: 'kept apart' } });
    const entries = await admin.xrange(topicKeys('omnibus:', `${p}orders`).stream, '-', '+');
    expect(entries).toHaveLength(1);
    const fields = Object.fromEntries(
      entries[0]![1].flatMap((value, index, all) =>
        index % 2 === 0 ? [[value, all[index + 1]]] : [],
      ),
    ) as Record<string, string>;
    expect(fields.body).toBe('{"item":"Fries"}');
    expect(fields.source).toBe('web');
    expect(fields['omnibus-attr-body']).toBe('kept apart');
    expect(fields['omnibus-id']).toBe(id);
    expect(
      fields['omnibus-content-type'],
      'JSON is the default and is not spelled out',
    ).toBeUndefined();
  });

  it("an attribute named body is kept apart from the entry's body field, both ways", async () => {
    const { bus, prefix: p } = await open();
    const consumer = bus.consumer<string>('traced', 'kitchen');
    await consumer.ready();
    await bus.producer<string>('traced').send('soup', { attributes: { body: 'mine' } });
    const entries = await admin.xrange(topicKeys('omnibus:', `${p}traced`).stream, '-', '+');
    const names = entries[0]![1].filter((_, index) => index % 2 === 0);
    expect(names).toContain('omnibus-attr-body');
    expect(names.filter((name) => name === 'body')).toHaveLength(1);
    const iterator = consumer.messages();
    const message = (await iterator.next()).value!;
    expect(message.attributes).toEqual({ body: 'mine' });
    expect(message.body).toBe('soup');
    await message.ack();
    await iterator.return?.();
  });

  it('moves due scheduled messages into the stream exactly once, even with competing consumers', async () => {
    const { bus, prefix: p } = await open();
    const second = await connect(redis({ url: REDIS_URL }), { prefix: p });
    buses.push(second);
    const seen: string[] = [];
    const consumers = [bus, second].map((b) =>
      b.consumer<number>('jobs', 'workers', { concurrency: 20 }),
    );
    await Promise.all(consumers.map((consumer) => consumer.ready()));
    for (const consumer of consumers) await consumer.start((message) => void seen.push(message.id));
    const ids = await bus
      .producer<number>('jobs')
      .sendBatch(Array.from({ length: 50 }, (_, n) => ({ body: n, delayMs: 300 })));
    const keys = topicKeys('omnibus:', `${p}jobs`);
    expect(await admin.zcard(keys.delayed)).toBe(50);
    await waitFor(() => seen.length >= 50, 'every delayed message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.sort()).toEqual([...ids].sort());
    expect(await admin.zcard(keys.delayed)).toBe(0);
  });

  it('trims entries every group acknowledged, and keeps what a lagging group still needs', async () => {
    const { bus, prefix: p } = await open({ trimIntervalMs: 100 });
    const fast = bus.consumer<number>('events', 'fast');
    const slow = bus.consumer<number>('events', 'slow');
    await Promise.all([fast.ready(), slow.ready()]);
    const { stream, subscriptions } = topicKeys('omnibus:', `${p}events`);
    // A new topic's registry is trusted only after staleConsumerMs (see retention.test.ts): this
    // test is about trimming by acknowledgement, so it starts with a trusted one.
    await admin.hset(subscriptions, '~complete', '1');
    let handled = 0;
    await fast.start(() => void handled++);
    await bus
      .producer<number>('events')
      .sendBatch(Array.from({ length: 30 }, (_, n) => ({ body: n })));
    await waitFor(() => handled === 30, 'the fast group to handle everything');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await admin.xlen(stream), 'the slow group has not read anything yet').toBe(30);
    let slowHandled = 0;
    await slow.start(() => void slowHandled++);
    await waitFor(() => slowHandled === 30, 'the slow group to catch up');
    await waitFor(
      async () => (await admin.xlen(stream)) === 0,
      'the stream to be trimmed to nothing',
    );
  });

  it('recreates a consumer group that disappeared (NOGROUP) and carries on', async () => {
    const { bus, prefix: p } = await open();
    const consumer = bus.consumer<string>('orders', 'kitchen');
    await consumer.ready();
    const seen: string[] = [];
    await consumer.start((message) => void seen.push(message.body));
    await bus.producer<string>('orders').send('before');
    await waitFor(() => seen.includes('before'), 'the first message');
    const keys = subscriptionKeys('omnibus:', `${p}orders`, `${p}kitchen`);
    await admin.del(keys.stream, keys.retry);
    await bus.producer<string>('orders').send('after');
    await waitFor(() => seen.includes('after'), 'a message sent after the group vanished');
    expect(await admin.xinfo('GROUPS', keys.stream)).toHaveLength(1);
  });

  it('a consumer that died mid-message: another reclaims it after the lease (XAUTOCLAIM), attempt 2', async () => {
    const { bus, prefix: p } = await open();
    const spec: SubscriptionSpec = {
      topic: `${p}orders`,
      subscription: `${p}kitchen`,
      maxAttempts: 5,
      deadLetter: true,
      ackDeadlineMs: 1_000,
      ordering: false,
    };
    // A "process" that takes a message and dies: its driver is never closed, its lease never renewed.
    const crashed = redis({ url: REDIS_URL });
    await crashed.ensureSubscription(spec);
    const session = await crashed.subscribe(spec, { maxOutstanding: 1 });
    const id = await bus.producer('orders').send('orphan');
    const [taken] = await session.receive({ maxMessages: 1, signal: new AbortController().signal });
    expect(taken?.id).toBe(id);
    // Another process (a driver of its own) reclaims it once the lease is over.
    const survivor = redis({ url: REDIS_URL, pollIntervalMs: 100 });
    const other = await survivor.subscribe(spec, { maxOutstanding: 1 });
    const [reclaimed] = await other.receive({
      maxMessages: 1,
      signal: new AbortController().signal,
    });
    expect(reclaimed).toMatchObject({ id, attempt: 2 });
    await other.close();
    await survivor.close();
    (crashed.native as Redis).disconnect();
  });

  it('backstop: dead-letters a message whose leases keep expiring even past the delivery core would dead-letter, atomically in Redis', async () => {
    const { bus, prefix: p } = await open();
    const spec: SubscriptionSpec = {
      topic: `${p}orders`,
      subscription: `${p}kitchen`,
      maxAttempts: 2,
      deadLetter: true,
      ackDeadlineMs: 1_000,
      ordering: false,
    };
    const crashed = redis({ url: REDIS_URL, pollIntervalMs: 100 });
    await crashed.ensureSubscription(spec);
    const session = await crashed.subscribe(spec, { maxOutstanding: 1 });
    const id = await bus.producer('orders').send('cursed');
    const signal = new AbortController().signal;
    expect((await session.receive({ maxMessages: 1, signal }))[0]?.attempt).toBe(1);
    expect((await session.receive({ maxMessages: 1, signal }))[0]?.attempt).toBe(2);
    // The third goes to core, which would dead-letter it ("lease expired"); this session never does.
    expect((await session.receive({ maxMessages: 1, signal }))[0]?.attempt).toBe(3);
    // So the fourth is the backstop's: the receive script moves it to the DLQ instead, recording
    // the two attempts a handler could have had.
    const waiting = new AbortController();
    const receiving = session.receive({ maxMessages: 1, signal: waiting.signal });
    await waitFor(async () => (await crashed.countDeadLetters(spec)) === 1, 'the backstop');
    waiting.abort();
    expect(await receiving).toEqual([]);
    const [letter] = await crashed.peekDeadLetters(spec, 10);
    expect(letter).toMatchObject({ id, attempts: 2 });
    expect(letter?.reason).toMatch(/^lease expired on attempt 2 of 2: /);
    (crashed.native as Redis).disconnect();
  });

  it('redrive moves only what the DLQ held when it began, even across batches', async () => {
    const { bus, prefix: p } = await open();
    const consumer = bus.consumer<number>('orders', 'kitchen', { concurrency: 50 });
    await consumer.ready();
    await consumer.start(async (message) => void (await message.deadLetter('refused')));
    await bus
      .producer<number>('orders')
      .sendBatch(Array.from({ length: 501 }, (_, n) => ({ body: n })));
    const dlq = bus.deadLetters('orders', 'kitchen');
    await waitFor(async () => (await dlq.count()) === 501, 'all 501 in the DLQ');
    await consumer.stop();
    // A message dead-lettered again right after the first batch (500) moved: not part of this redrive.
    const keys = subscriptionKeys('omnibus:', `${p}orders`, `${p}kitchen`);
    const client = new Redis(REDIS_URL, { autoResendUnfulfilledCommands: false });
    const call = client.callBuffer.bind(client);
    let injected = false;
    client.callBuffer = (async (...args: Parameters<typeof call>) => {
      const reply = await call(...args);
      if (!injected && args[1] === REDRIVE.sha) {
        injected = true;
        await admin.xadd(keys.deadLetters, '*', 'body', '1', 'omnibus-dead-letter-reason', 'again');
      }
      return reply;
    }) as typeof client.callBuffer;
    const other = await connect(redis({ client }), { prefix: p });
    try {
      expect(await other.deadLetters('orders', 'kitchen').redrive()).toBe(501);
      expect(await dlq.count()).toBe(1);
    } finally {
      await other.close();
      client.disconnect();
    }
  });

  it('stats: waiting from the group lag, in flight from the pending list, dead letters from the DLQ stream', async () => {
    const { bus } = await open();
    const consumer = bus.consumer<number>('orders', 'kitchen', { concurrency: 1 });
    await consumer.ready();
    await bus.producer<number>('orders').sendBatch([{ body: 1 }, { body: 2 }, { body: 3 }]);
    expect(await consumer.stats()).toEqual({
      waiting: 3,
      inFlight: 0,
      deadLettered: 0,
      approximate: [],
    });
    const iterator = consumer.messages();
    const held = (await iterator.next()).value!;
    expect(await consumer.stats()).toEqual({
      waiting: 2,
      inFlight: 1,
      deadLettered: 0,
      approximate: [],
    });
    await held.nack({ delayMs: 60_000 });
    await iterator.return?.();
    // A message waiting out its nack delay is neither waiting nor in flight.
    await waitFor(async () => (await consumer.stats()).inFlight === 0, 'the released message');
    expect((await consumer.stats()).waiting).toBe(2);
  });

  it('never puts credentials in an error', async () => {
    const bus = await connect(fromUrl(new URL('redis://intruder:sup3rsecret@127.0.0.1:6379')), {
      prefix: prefix(),
    });
    buses.push(bus);
    const failure = await bus
      .producer('orders')
      .send('x')
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(OmnibusError.isInstance(failure)).toBe(true);
    expect((failure as OmnibusError).code).toBe('Unauthenticated');
    expect(inspect(failure, { depth: 10 })).not.toContain('sup3rsecret');
    expect(JSON.stringify(failure)).not.toContain('sup3rsecret');
  });

  it('connect() by URL loads the adapter and honours the db and keyPrefix', async () => {
    const p = prefix();
    const bus = await connect(`${REDIS_URL}/0?keyPrefix=custom:&prefix=${p}`);
    buses.push(bus);
    prefixes.push(p);
    expect(bus.adapter).toBe('redis');
    await bus.producer('orders').send('x');
    expect(await admin.xlen(`custom:{${p}orders}`)).toBe(1);
    await admin.del(`custom:{${p}orders}`);
  });
});
