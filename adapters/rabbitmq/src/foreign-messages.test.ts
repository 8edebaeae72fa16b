// Messages a plain AMQP client wrote, with anything Omnibus never writes: delivered sanitised or dead-lettered, never a stall.
import type { Message } from '@omnibus/core';
import { connect as amqpConnect, type ChannelModel, type Options } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AMQP_URL,
  connectBus,
  deleteSharedTestObjects,
  sharedBroker,
  testPrefix,
  waitUntil,
} from './testing/broker-fixture.js';

interface ForeignCase {
  /** Also the message's `case` header, to find it again (a string header: it stays an attribute). */
  readonly name: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  /** What must happen to it: handled (with sanitised metadata) or dead-lettered with this reason. */
  readonly outcome: { handled: (message: Message<unknown>) => void } | { deadLettered: RegExp };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const manyHeaders = Object.fromEntries(
  Array.from({ length: 300 }, (_, index) => [`h${index}`, index]),
);

/**
 * Every kind of metadata Omnibus's producer never writes; each row is one plain-amqplib message.
 * (A NaN double is not here: RabbitMQ itself refuses it, closing the publisher's connection.)
 */
const CASES: readonly ForeignCase[] = [
  {
    name: 'nested-table-header',
    content: json({ ok: 1 }),
    options: { contentType: 'application/json', headers: { deep: { a: { b: { c: 1 } } } } },
    outcome: { handled: (message) => expect(message.attributes).not.toHaveProperty('deep') },
  },
  {
    name: 'array-header',
    content: json({ ok: 2 }),
    options: { contentType: 'application/json', headers: { list: [1, 'two', { three: 3 }] } },
    outcome: { handled: (message) => expect(message.attributes).not.toHaveProperty('list') },
  },
  {
    name: 'binary-header',
    content: json({ ok: 3 }),
    options: {
      contentType: 'application/json',
      headers: { bin: Buffer.from([0xff, 0xfe, 0x00]), text: Buffer.from('fine') },
    },
    outcome: {
      handled: (message) => {
        expect(message.attributes).not.toHaveProperty('bin');
        expect(message.attributes.text).toBe('fine');
      },
    },
  },
  {
    name: 'number-headers',
    content: json({ ok: 4 }),
    options: {
      contentType: 'application/json',
      headers: { int: 42, negative: -7, float: 1.5, large: 2 ** 62, yes: true },
    },
    outcome: {
      handled: (message) =>
        expect(message.attributes).toMatchObject({
          int: '42',
          negative: '-7',
          float: '1.5',
          yes: 'true',
        }),
    },
  },
  {
    name: 'huge-header',
    content: json({ ok: 5 }),
    options: { contentType: 'application/json', headers: { huge: 'x'.repeat(60_000) } },
    outcome: { handled: (message) => expect(message.attributes).not.toHaveProperty('huge') },
  },
  {
    name: 'three-hundred-headers',
    content: json({ ok: 6 }),
    options: { contentType: 'application/json', headers: manyHeaders },
    outcome: {
      handled: (message) => expect(Object.keys(message.attributes).length).toBeLessThanOrEqual(64),
    },
  },
  {
    name: 'absurd-counts',
    content: json({ ok: 7 }),
    options: {
      contentType: 'application/json',
      headers: { 'omnibus-attempts': -5, 'x-delivery-count': 1e12 },
    },
    outcome: { handled: (message) => expect(message.attempt).toBe(1) },
  },
  {
    name: 'count-as-text',
    content: json({ ok: 8 }),
    options: { contentType: 'application/json', headers: { 'omnibus-attempts': 'many' } },
    outcome: { handled: (message) => expect(message.attempt).toBe(1) },
  },
  {
    name: 'odd-content-type-no-id',
    content: Buffer.from('hello'),
    options: { contentType: 'text/x-weird; charset=ebcdic' },
    outcome: {
      handled: (message) => {
        expect(message.body).toBe('hello');
        expect(message.id).toMatch(/^amqp-[0-9a-f]{32}$/);
      },
    },
  },
  {
    name: 'invalid-json',
    content: Buffer.from('{not json'),
    options: { contentType: 'application/json', messageId: 'invalid-json-1' },
    outcome: { deadLettered: /^body could not be decoded/ },
  },
  {
    name: 'times-out-of-range',
    content: json({ ok: 9 }),
    options: {
      contentType: 'application/json',
      timestamp: 2 ** 50,
      headers: { 'omnibus-published-at': -1e15, 'omnibus-dead-lettered-at': 'yesterday' },
    },
    outcome: {
      handled: (message) => expect(Number.isNaN(message.publishedAt.getTime())).toBe(false),
    },
  },
  {
    name: 'odd-message-id',
    content: json({ ok: 10 }),
    options: { contentType: 'application/json', messageId: `a\u0001b${'x'.repeat(240)}` },
    outcome: { handled: (message) => expect(message.id).toMatch(/^amqp-[0-9a-f]{32}$/) },
  },
  // Core's portable rule for ids is 1–128 printable ASCII without spaces: any other is replaced
  // by a derived id, as Redis does.
  ...(
    [
      ['message-id-with-space', 'order 42'],
      ['message-id-with-tab', 'order\t42'],
      ['message-id-non-ascii', 'commande-n°42'],
      ['message-id-250-chars', 'x'.repeat(250)],
      ['message-id-129-chars', 'y'.repeat(129)],
    ] as const
  ).map(
    ([name, messageId], index): ForeignCase => ({
      name,
      content: json({ ok: 20 + index }),
      options: { contentType: 'application/json', messageId },
      outcome: { handled: (message) => expect(message.id).toMatch(/^amqp-[0-9a-f]{32}$/) },
    }),
  ),
  {
    name: 'message-id-128-printable',
    content: json({ ok: 30 }),
    options: { contentType: 'application/json', messageId: `${'z'.repeat(120)}-~!#$%&` },
    outcome: {
      handled: (message) => expect(message.id).toBe(`${'z'.repeat(120)}-~!#$%&`),
    },
  },
  {
    name: 'bad-trace-and-ordering-key',
    content: json({ ok: 11 }),
    options: {
      contentType: 'application/json',
      headers: { traceparent: 'garbage', 'omnibus-ordering-key': { a: 1 } },
    },
    outcome: { handled: (message) => expect(message.orderingKey).toBeUndefined() },
  },
  {
    name: 'empty-bytes',
    content: Buffer.alloc(0),
    options: { contentType: 'application/octet-stream' },
    outcome: { handled: (message) => expect((message.body as Uint8Array).length).toBe(0) },
  },
  {
    // Its dead-letter copy adds Omnibus's headers to a table already near amqplib's 64 KiB.
    name: 'invalid-json-near-table-limit',
    content: Buffer.from('{not json either'),
    options: { contentType: 'application/json', headers: { pad: 'p'.repeat(65_300) } },
    outcome: { deadLettered: /^body could not be decoded/ },
  },
  {
    // amqplib reads this back as 2^63, which it can't write as a 64-bit integer again.
    name: 'invalid-json-int64-max',
    content: Buffer.from('{nor this'),
    options: {
      contentType: 'application/json',
      headers: { big: { '!': 'int64', value: 2n ** 63n - 1n } },
    },
    outcome: { deadLettered: /^body could not be decoded/ },
  },
];

describe.skipIf(sharedBroker !== true)('foreign messages', () => {
  afterAll(deleteSharedTestObjects, 120_000);

  it('each is delivered with sanitised metadata or dead-lettered with a reason, and valid messages keep flowing', async () => {
    const prefix = testPrefix();
    const bus = await connectBus(prefix);
    let plain: ChannelModel | undefined;
    try {
      // Concurrency 1: a single stuck message would stall the whole subscription.
      const consumer = bus.consumer<unknown>('orders', 'kitchen', {
        concurrency: 1,
        maxAttempts: 2,
        retry: { initialDelayMs: 0, maxDelayMs: 0 },
      });
      await consumer.ready();
      const handled: Message<unknown>[] = [];
      await consumer.start((message) => {
        handled.push(message);
      });
      plain = await amqpConnect(AMQP_URL);
      const channel = await plain.createConfirmChannel();
      const producer = bus.producer<{ valid: number }>('orders');
      const validIds: string[] = [];
      for (const [index, row] of CASES.entries()) {
        const headers = { case: row.name, ...(row.options.headers ?? {}) };
        await new Promise<void>((resolve, reject) =>
          channel.publish(
            `${prefix}orders`,
            '',
            row.content,
            { ...row.options, headers, persistent: true },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
        validIds.push(await producer.send({ valid: index }));
      }

      const dlq = bus.deadLetters<unknown>('orders', 'kitchen');
      const expectedDeadLetters = CASES.filter((row) => 'deadLettered' in row.outcome).length;
      await waitUntil(
        async () =>
          validIds.every((id) => handled.some((message) => message.id === id)) &&
          (await dlq.count()) === expectedDeadLetters,
        'every valid message handled and every undecodable foreign one dead-lettered',
        30_000,
      );

      const letters = await dlq.peek(100);
      for (const row of CASES) {
        const delivered = handled.filter((message) => message.attributes.case === row.name);
        const dead = letters.filter((letter) => letter.attributes.case === row.name);
        if ('handled' in row.outcome) {
          expect(delivered, row.name).toHaveLength(1);
          expect(dead, row.name).toHaveLength(0);
          const message = delivered[0]!;
          // Sanitised: what Omnibus's own producer could have written.
          expect(message.id.length, row.name).toBeGreaterThan(0);
          expect(message.id.length, row.name).toBeLessThanOrEqual(256);
          expect(message.id, row.name).toMatch(/^[\x21-\x7e]{1,128}$/);
          expect(
            [...message.id].some((char) => char < ' '),
            row.name,
          ).toBe(false);
          expect(message.attempt, row.name).toBe(1);
          expect(Number.isNaN(message.publishedAt.getTime()), row.name).toBe(false);
          for (const [name, value] of Object.entries(message.attributes)) {
            expect(typeof value, `${row.name}: ${name}`).toBe('string');
            expect(Buffer.byteLength(value), `${row.name}: ${name}`).toBeLessThanOrEqual(1024);
          }
          row.outcome.handled(message);
        } else {
          expect(delivered, row.name).toHaveLength(0);
          expect(dead, row.name).toHaveLength(1);
          expect(dead[0]!.reason, row.name).toMatch(row.outcome.deadLettered);
          expect(dead[0]!.attempts, row.name).toBe(1);
        }
      }
      await consumer.stop();
    } finally {
      await plain?.close();
      await bus.close();
    }
  }, 60_000);
});
