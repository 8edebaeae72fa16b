import { describe, expect } from 'vitest';
import { consumerOptions, range, type Suite, sendAll } from './helpers.js';

/** Sending, receiving, bodies, attributes, ids, timestamps and batches. */
export function registerSendReceiveTests(suite: Suite): void {
  describe('send-receive', () => {
    suite.test(
      'delivers every message sent after ready() with its id, body and attributes',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<{ n: number }>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const producer = t.bus.producer<{ n: number }>(topic);
        const sent = new Map<string, number>();
        for (const n of range(20)) {
          const id = await producer.send({ n }, { attributes: { index: String(n) } });
          sent.set(id, n);
        }
        expect(sent.size).toBe(20);
        const inbox = t.inbox<{ n: number }>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds([...sent.keys()]);
        for (const delivery of inbox.deliveries) {
          const n = sent.get(delivery.id);
          expect(n, `unexpected message ${delivery.id}`).toBeDefined();
          expect(delivery.body).toEqual({ n });
          expect(delivery.attributes).toEqual({ index: String(n) });
          t.expectAttempts([delivery.attempt], [1], 'a first delivery');
        }
      },
    );

    suite.test('round-trips JSON bodies of every JSON type', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const bodies: unknown[] = [
        { nested: { list: [1, 'two', { three: 3 }], empty: {}, none: null }, flag: true },
        [1, 2.5, -3, 1e21, 'x', false, null],
        'ünïcödé ✓ 🚌 "quoted" \\ backslash \n newline',
        0,
        -12.75,
        true,
        false,
        null,
        '',
      ];
      const producer = t.bus.producer(topic);
      const ids = await sendAll(producer, bodies);
      const inbox = t.inbox();
      await t.consume(consumer, inbox);
      await inbox.waitForIds(ids);
      ids.forEach((id, index) => {
        expect(inbox.of(id)[0]!.body, `body #${index}`).toEqual(bodies[index]);
      });
    });

    suite.test('round-trips a binary body byte for byte', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<Uint8Array>(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const everyByte = Uint8Array.from(range(256));
      const notUtf8 = Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xa0, 0xa1, 0xe2, 0x82]);
      const large = new Uint8Array(100 * 1024);
      for (let index = 0; index < large.length; index++) large[index] = (index * 7919) % 251;
      const bodies = [everyByte, notUtf8, large];
      const producer = t.bus.producer<Uint8Array>(topic);
      const ids = await sendAll(producer, bodies);
      const inbox = t.inbox<Uint8Array>();
      await t.consume(consumer, inbox);
      await inbox.waitForIds(ids);
      ids.forEach((id, index) => {
        const body = inbox.of(id)[0]!.body;
        expect(body, `body #${index} should arrive as a Uint8Array`).toBeInstanceOf(Uint8Array);
        expect(
          Buffer.from(body).equals(Buffer.from(bodies[index]!)),
          `body #${index} bytes differ`,
        ).toBe(true);
      });
    });

    suite.test('round-trips attributes exactly, adding none of its own', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const full = {
        source: 'web',
        tenant_id: '42',
        'trace.hint': 'ünïcödé ✓ with spaces, "quotes" and = signs',
        long: 'v'.repeat(1_000),
        'Mixed-Case': 'Value',
        a: '1',
        b: '2',
        c: '3',
      };
      const producer = t.bus.producer(topic);
      const withAll = await producer.send({ kind: 'all' }, { attributes: full });
      const withNone = await producer.send({ kind: 'none' });
      const withEmptyObject = await producer.send({ kind: 'empty' }, { attributes: {} });
      const inbox = t.inbox();
      await t.consume(consumer, inbox);
      await inbox.waitForIds([withAll, withNone, withEmptyObject]);
      expect(inbox.of(withAll)[0]!.attributes).toEqual(full);
      expect(inbox.of(withNone)[0]!.attributes).toEqual({});
      expect(inbox.of(withEmptyObject)[0]!.attributes).toEqual({});
    });

    suite.test('keeps the id given at send, and makes distinct ids otherwise', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const producer = t.bus.producer(topic);
      const chosen = `order-${t.prefix}981`;
      expect(await producer.send({ n: 0 }, { id: chosen })).toBe(chosen);
      const generated = await sendAll(producer, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      for (const id of generated) {
        expect(typeof id).toBe('string');
        expect(id.length).toBeGreaterThan(0);
      }
      expect(new Set(generated).size).toBe(3);
      const inbox = t.inbox();
      await t.consume(consumer, inbox);
      await inbox.waitForIds([chosen, ...generated]);
      expect(inbox.of(chosen)[0]!.body).toEqual({ n: 0 });
    });

    suite.test('sets msg.publishedAt to the time send was called', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const before = Date.now();
      const id = await t.bus.producer(topic).send('timestamped');
      const after = Date.now();
      const inbox = t.inbox();
      await t.consume(consumer, inbox);
      await inbox.waitForIds([id]);
      const { publishedAt } = inbox.of(id)[0]!;
      expect(publishedAt).toBeInstanceOf(Date);
      // Adapters carry the time core stamped at send; a second of slack allows broker clocks.
      expect(publishedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(publishedAt.getTime()).toBeLessThanOrEqual(after + 1_000);
    });

    suite.test(
      'sendBatch delivers every entry with its own options and returns ids in order',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<{ n: number }>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const chosen = `batch-${t.prefix}7`;
        const entries = range(5).map((n) => ({
          body: { n },
          attributes: { position: String(n) },
          ...(n === 3 ? { id: chosen } : {}),
        }));
        const ids = await t.bus.producer<{ n: number }>(topic).sendBatch(entries);
        expect(ids).toHaveLength(5);
        expect(ids[3]).toBe(chosen);
        expect(new Set(ids).size).toBe(5);
        const inbox = t.inbox<{ n: number }>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds(ids);
        ids.forEach((id, n) => {
          const delivery = inbox.of(id)[0]!;
          expect(delivery.body).toEqual({ n });
          expect(delivery.attributes).toEqual({ position: String(n) });
        });
      },
    );

    suite.test(
      'sendBatch larger than capabilities.maxBatchSize is split and fully delivered',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<number>(
          topic,
          t.name('sub'),
          consumerOptions({ concurrency: 20 }),
        );
        await consumer.ready();
        // Over the driver's batch size where that is small (SQS: 10); capped to keep the test fast.
        const count = Math.min(t.capabilities.maxBatchSize * 2 + 1, 250);
        const ids = await t.bus
          .producer<number>(topic)
          .sendBatch(range(count).map((n) => ({ body: n })));
        expect(ids).toHaveLength(count);
        expect(new Set(ids).size).toBe(count);
        const inbox = t.inbox<number>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds(ids);
        ids.forEach((id, n) => {
          expect(inbox.of(id)[0]!.body).toBe(n);
        });
      },
    );

    suite.test('many concurrent sends are all delivered', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<number>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 20 }),
      );
      await consumer.ready();
      const producer = t.bus.producer<number>(topic);
      const ids = await Promise.all(range(100).map((n) => producer.send(n)));
      expect(new Set(ids).size).toBe(100);
      const inbox = t.inbox<number>();
      await t.consume(consumer, inbox);
      await inbox.waitForIds(ids);
    });

    suite.test('keeps topics apart', async (t) => {
      const first = t.name('topic');
      const second = t.name('topic');
      // Same subscription name on both topics: names are unique per topic, not across topics.
      const subscription = t.name('sub');
      const firstConsumer = t.bus.consumer<string>(first, subscription, consumerOptions());
      const secondConsumer = t.bus.consumer<string>(second, subscription, consumerOptions());
      await Promise.all([firstConsumer.ready(), secondConsumer.ready()]);
      const firstIds = await sendAll(t.bus.producer<string>(first), ['a1', 'a2', 'a3']);
      const secondIds = await sendAll(t.bus.producer<string>(second), ['b1', 'b2', 'b3']);
      const firstInbox = t.inbox<string>();
      const secondInbox = t.inbox<string>();
      await t.consume(firstConsumer, firstInbox);
      await t.consume(secondConsumer, secondInbox);
      await firstInbox.waitForIds(firstIds);
      await secondInbox.waitForIds(secondIds);
      // A sentinel sent last to each topic: once it arrives, anything misrouted earlier would have too.
      const firstSentinel = await t.bus.producer<string>(first).send('a-end');
      const secondSentinel = await t.bus.producer<string>(second).send('b-end');
      await firstInbox.waitForIds([firstSentinel]);
      await secondInbox.waitForIds([secondSentinel]);
      expect([...firstInbox.uniqueIds()].sort()).toEqual([...firstIds, firstSentinel].sort());
      expect([...secondInbox.uniqueIds()].sort()).toEqual([...secondIds, secondSentinel].sort());
    });

    suite.test('a subscription keeps messages sent while no consumer runs', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      const producer = t.bus.producer<string>(topic);
      await t.bus.consumer(topic, subscription, consumerOptions()).ready();
      const early = await producer.send('sent before any consumer started');

      const firstInbox = t.inbox<string>();
      const first = t.bus.consumer<string>(topic, subscription, consumerOptions());
      await t.consume(first, firstInbox);
      await firstInbox.waitForIds([early]);
      await first.stop();

      const whileStopped = await sendAll(producer, ['gap-1', 'gap-2']);
      // A later consumer, on another connection, picks up where the subscription stands.
      const other = await t.connect();
      const secondInbox = t.inbox<string>();
      await t.consume(other.consumer<string>(topic, subscription, consumerOptions()), secondInbox);
      await secondInbox.waitForIds(whileStopped);
      expect(secondInbox.of(early)).toHaveLength(0);
    });

    suite.test('the pull iterator yields messages and ack removes them', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 1 }),
      );
      await consumer.ready();
      const producer = t.bus.producer<string>(topic);
      const [first, second] = await sendAll(producer, ['one', 'two']);
      const iterator = consumer.messages();
      const seen: string[] = [];
      for (let index = 0; index < 2; index++) {
        const next = await iterator.next();
        expect(next.done).toBeFalsy();
        const message = next.value!;
        seen.push(message.id);
        expect(message.outcome).toBeUndefined();
        expect(await message.ack()).toBe('acked');
        expect(message.outcome).toBe('acked');
      }
      expect(seen.sort()).toEqual([first, second].sort());
      // Acked messages are gone: the next one out is a new message, not either of them again.
      const third = await producer.send('three');
      const next = await iterator.next();
      expect(next.value!.id).toBe(third);
      await next.value!.ack();
      await iterator.return?.();
    });

    suite.test('exposes the native client and the native message (escape hatches)', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      expect(t.bus.native).toBeDefined();
      expect(typeof t.bus.adapter).toBe('string');
      expect(t.bus.adapter.length).toBeGreaterThan(0);
      const id = await t.bus.producer(topic).send({ native: true });
      const inbox = t.inbox();
      await t.consume(consumer, inbox);
      await inbox.waitForIds([id]);
      expect(inbox.of(id)[0]!.message.native).toBeDefined();
    });
  });
}
