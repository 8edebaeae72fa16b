/** Entries a plain client wrote, with anything Omnibus never writes: each is delivered sanitised or dead-lettered, and the stream keeps flowing. */

import { randomBytes } from 'node:crypto';
import { type Bus, connect, type Message, type OmnibusError } from '@omnibus/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redis, subscriptionKeys } from './index.js';
import { waitFor } from './test-support/harness.js';
import { deleteKeys, REDIS_URL, redisUnavailable } from './test-support/redis-server.js';

const unavailable = await redisUnavailable();
const suite = unavailable === undefined ? describe : describe.skip;

const binary = (...bytes: number[]) => Buffer.from(bytes);
const json = '{"foreign":true}';

type Field = string | Buffer;
interface Case {
  name: string;
  /** Where the plain client writes: the topic stream, or the subscription's own retry stream. */
  stream?: 'topic' | 'retry';
  /** Explicit stream id instead of `*`. */
  id?: string;
  fields: Field[];
  /** `delivered`: handled with sane metadata; `dead-lettered`: in the DLQ with a reason. */
  expect: 'delivered' | 'dead-lettered';
}

const CASES: Case[] = [
  { name: 'no body field', fields: ['source', 'cli'], expect: 'dead-lettered' },
  {
    name: 'binary garbage body',
    fields: ['body', binary(0xff, 0xfe, 0x00, 0x80)],
    expect: 'dead-lettered',
  },
  {
    name: 'binary field names and values',
    fields: ['body', json, binary(0xff, 0x00, 0xc3), binary(0x00, 0x01, 0xfe)],
    expect: 'delivered',
  },
  {
    name: 'a 1 MiB attribute value',
    fields: ['body', json, 'big', 'x'.repeat(1 << 20)],
    expect: 'delivered',
  },
  {
    name: '2000 attribute fields',
    fields: ['body', json, ...Array.from({ length: 4000 }, (_, n) => `f${n >> 1}`)],
    expect: 'delivered',
  },
  {
    name: 'duplicate field names',
    fields: ['body', json, 'body', json, 'source', 'a', 'source', 'b'],
    expect: 'delivered',
  },
  {
    name: 'non-numeric omnibus-published-at',
    fields: ['body', json, 'omnibus-published-at', 'soon'],
    expect: 'delivered',
  },
  {
    name: 'omnibus-published-at 1e400',
    fields: ['body', json, 'omnibus-published-at', '1e400'],
    expect: 'delivered',
  },
  {
    name: 'omnibus-published-at beyond the Date range',
    fields: ['body', json, 'omnibus-published-at', '99999999999999999999'],
    expect: 'delivered',
  },
  {
    name: 'negative omnibus-published-at',
    fields: ['body', json, 'omnibus-published-at', '-5'],
    expect: 'delivered',
  },
  { name: 'empty omnibus-id', fields: ['body', json, 'omnibus-id', ''], expect: 'delivered' },
  {
    name: 'a 100 KiB omnibus-id',
    fields: ['body', json, 'omnibus-id', 'i'.repeat(100 * 1024)],
    expect: 'delivered',
  },
  {
    name: 'binary omnibus-id',
    fields: ['body', json, 'omnibus-id', binary(0xff, 0x00, 0x0a)],
    expect: 'delivered',
  },
  {
    name: 'garbage omnibus-content-type',
    fields: ['body', json, 'omnibus-content-type', binary(0xff, 0x00)],
    expect: 'delivered',
  },
  {
    name: 'garbage traceparent',
    fields: ['body', json, 'traceparent', 'not-a-traceparent'],
    expect: 'delivered',
  },
  {
    name: 'a 100 KiB omnibus-ordering-key',
    fields: ['body', json, 'omnibus-ordering-key', 'k'.repeat(100 * 1024)],
    expect: 'delivered',
  },
  {
    name: 'dead-letter metadata on a live entry',
    fields: ['body', json, 'omnibus-dead-letter-attempts', 'lots', 'omnibus-dead-lettered-at', 'x'],
    expect: 'delivered',
  },
  {
    name: 'an empty escaped attribute name',
    fields: ['body', json, 'omnibus-attr-', 'v'],
    expect: 'delivered',
  },
  {
    name: 'an id far in the future with a huge sequence',
    id: '9999999999999-18446744073709551614',
    fields: ['body', json],
    expect: 'delivered',
  },
  ...['many', '-3', '1e400', '2.5', '99999999999999999999', ''].map(
    (attempt): Case => ({
      name: `omnibus-attempts "${attempt}" in the retry stream`,
      stream: 'retry',
      fields: ['body', json, 'omnibus-attempts', attempt],
      expect: 'delivered',
    }),
  ),
  // Entries an Omnibus before v2 wrote: their metadata fields are unknown now, read as foreign.
  {
    name: 'pre-v2 metadata (omnibus-ts, omnibus-key, omnibus-type, omnibus-trace)',
    fields: [
      'body',
      json,
      'omnibus-id',
      'old-1',
      'omnibus-ts',
      'soon',
      'omnibus-key',
      'k'.repeat(300),
      'omnibus-type',
      binary(0xff),
      'omnibus-trace',
      'x',
    ],
    expect: 'delivered',
  },
  ...['1', '1e400', 'many'].map(
    (attempt): Case => ({
      name: `pre-v2 omnibus-attempt "${attempt}" in the retry stream`,
      stream: 'retry',
      fields: ['body', json, 'omnibus-attempt', attempt],
      expect: 'delivered',
    }),
  ),
  {
    name: 'no body in the retry stream',
    stream: 'retry',
    fields: ['omnibus-attempts', '1'],
    expect: 'dead-lettered',
  },
];

suite('foreign entries (written by a plain client) never stall a subscription', () => {
  const admin = new Redis(REDIS_URL);
  const buses: Bus[] = [];
  const prefix = `f${randomBytes(4).toString('hex')}-`;
  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await deleteKeys(admin, `omnibus:{${prefix}*`);
    admin.disconnect();
  });

  it.each(CASES.map((entry, index) => [entry.name, entry, index] as const))(
    '%s',
    async (_name, entry, index) => {
      const bus = await connect(redis({ url: REDIS_URL }), { prefix });
      buses.push(bus);
      const topic = `topic${index}`;
      const errors: OmnibusError[] = [];
      const consumer = bus.consumer<unknown>(topic, 'sub', {
        maxAttempts: 3,
        onError: (error) => void errors.push(error),
      });
      await consumer.ready();
      const handled: Message<unknown>[] = [];
      await consumer.start((message) => void handled.push(message));
      const keys = subscriptionKeys('omnibus:', `${prefix}${topic}`, `${prefix}sub`);
      const stream = entry.stream === 'retry' ? keys.retry : keys.stream;
      const streamId = String(
        await admin.xaddBuffer(stream, entry.id ?? '*', ...(entry.fields as [Field, Field])),
      );
      // A valid message behind the foreign one: it must get through.
      await bus.producer<{ after: boolean }>(topic).send({ after: true });
      await waitFor(
        () => handled.some((message) => (message.body as { after?: boolean })?.after === true),
        'the valid message sent after the foreign entry',
      );
      if (entry.expect === 'delivered') {
        await waitFor(() => handled.length >= 2, 'the foreign entry to be handled');
        const foreign = handled.find(
          (message) => (message.body as { after?: boolean })?.after !== true,
        )!;
        expect(foreign.body).toEqual({ foreign: true });
        expect(typeof foreign.id).toBe('string');
        expect(foreign.id.length).toBeGreaterThan(0);
        expect(Number.isNaN(foreign.publishedAt.getTime())).toBe(false);
        expect(Number.isInteger(foreign.attempt) && foreign.attempt >= 1).toBe(true);
        for (const [name, value] of Object.entries(foreign.attributes)) {
          expect(typeof name).toBe('string');
          expect(typeof value).toBe('string');
        }
      } else {
        const dead = bus.deadLetters(topic, 'sub');
        await waitFor(async () => (await dead.count()) === 1, 'the foreign entry in the DLQ');
        const [letter] = await dead.peek(1);
        expect(letter?.reason.length).toBeGreaterThan(0);
        expect(handled).toHaveLength(1);
      }
      expect(errors.filter((error) => error.code === 'Internal')).toEqual([]);
      expect(streamId).toMatch(/^\d+-\d+$/);
    },
  );

  it('a foreign entry that is nacked comes back with the same id and publish time, attempt 2', async () => {
    const bus = await connect(redis({ url: REDIS_URL }), { prefix });
    buses.push(bus);
    const consumer = bus.consumer<unknown>('renacked', 'sub', { onError: () => undefined });
    await consumer.ready();
    const seen: { id: string; at: number; attempt: number }[] = [];
    await consumer.start(async (message) => {
      seen.push({ id: message.id, at: message.publishedAt.getTime(), attempt: message.attempt });
      if (message.attempt === 1) await message.nack();
    });
    const keys = subscriptionKeys('omnibus:', `${prefix}renacked`, `${prefix}sub`);
    const streamId = String(
      await admin.xadd(
        keys.stream,
        '*',
        'body',
        json,
        'omnibus-id',
        '',
        'omnibus-published-at',
        'soon',
      ),
    );
    await waitFor(() => seen.length === 2, 'the redelivery');
    const added = Number(streamId.split('-')[0]);
    expect(seen).toEqual([
      { id: streamId, at: added, attempt: 1 },
      { id: streamId, at: added, attempt: 2 },
    ]);
  });

  it('attempts a plain client wrote into a topic entry do not count when its lease expires', async () => {
    const spec = {
      topic: `${prefix}reclaimed`,
      subscription: `${prefix}sub`,
      maxAttempts: 5,
      deadLetter: true,
      ackDeadlineMs: 1_000,
      ordering: false,
    };
    const driver = redis({ url: REDIS_URL, pollIntervalMs: 100 });
    try {
      await driver.ensureSubscription(spec);
      const session = await driver.subscribe(spec, { maxOutstanding: 1 });
      const keys = subscriptionKeys('omnibus:', spec.topic, spec.subscription);
      await admin.xadd(keys.stream, '*', 'body', json, 'omnibus-attempts', '1e400');
      const signal = new AbortController().signal;
      expect((await session.receive({ maxMessages: 1, signal }))[0]?.attempt).toBe(1);
      // Never settled: the lease expires and the maintenance script reclaims it.
      expect((await session.receive({ maxMessages: 1, signal }))[0]?.attempt).toBe(2);
      expect(await driver.countDeadLetters(spec)).toBe(0);
      await session.close();
    } finally {
      await driver.close();
    }
  });

  it.each([
    ['not msgpack at all', Buffer.from([0xc1, 0xff, 0x00])],
    // cmsgpack of {nonce, 'body'}: an odd number of fields.
    ['an odd number of fields', Buffer.from([0x92, 0xa1, 0x6e, 0xa4, 0x62, 0x6f, 0x64, 0x79])],
    // cmsgpack of {nonce, 'body', 1}: a number where a field value belongs.
    [
      'a number as a field value',
      Buffer.from([0x93, 0xa1, 0x6e, 0xa4, 0x62, 0x6f, 0x64, 0x79, 0x01]),
    ],
  ])(
    'a scheduled-set member another client added (%s) is dead-lettered, and the rest flows',
    async (_name, member) => {
      const bus = await connect(redis({ url: REDIS_URL }), { prefix });
      buses.push(bus);
      const topic = `scheduled${member.length}`;
      const consumer = bus.consumer<{ after?: boolean }>(topic, 'sub', {
        onError: () => undefined,
      });
      await consumer.ready();
      const handled: unknown[] = [];
      await consumer.start((message) => void handled.push(message.body));
      const keys = subscriptionKeys('omnibus:', `${prefix}${topic}`, `${prefix}sub`);
      await admin.zadd(keys.delayed, 0, member);
      await bus.producer<{ after: boolean }>(topic).send({ after: true }, { delayMs: 1 });
      await waitFor(() => handled.length === 1, 'the valid delayed message');
      const dead = bus.deadLetters(topic, 'sub');
      await waitFor(async () => (await dead.count()) === 1, 'the foreign member in the DLQ');
      expect(handled).toEqual([{ after: true }]);
      expect(await admin.zcard(keys.delayed)).toBe(0);
    },
  );
});
