import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, range, type Suite, simulateWork } from './helpers.js';

interface Step {
  key: string;
  seq: number;
}

/** Per-key ordering where `capabilities.ordering`, and its rejection where not. */
export function registerOrderingTests(suite: Suite): void {
  describe('ordering', () => {
    suite.test(
      'messages sharing an orderingKey are handled in send order, one at a time',
      async (t) => {
        t.requires(t.capabilities.ordering, 'ordering');
        const topic = t.name('topic');
        const consumer = t.bus.consumer<Step>(
          topic,
          t.name('sub'),
          consumerOptions({ concurrency: 5 }),
        );
        await consumer.ready();
        const producer = t.bus.producer<Step>(topic);
        const keys = ['k-a', 'k-b', 'k-c'];
        const sent = new Map<string, string[]>(keys.map((key) => [key, []]));
        // Interleaved across keys, so per-key order is not simply global order.
        for (const seq of range(10)) {
          for (const key of keys)
            sent.get(key)!.push(await producer.send({ key, seq }, { orderingKey: key }));
        }
        const active = new Map<string, number>();
        const overlaps: string[] = [];
        const inbox = t.inbox<Step>();
        await t.consume(consumer, inbox, async (message) => {
          const key = message.body.key;
          const running = (active.get(key) ?? 0) + 1;
          active.set(key, running);
          if (running > 1) overlaps.push(`${key}#${message.body.seq}`);
          await simulateWork(message.body.seq % 3);
          active.set(key, (active.get(key) ?? 1) - 1);
        });
        await inbox.waitForIds([...sent.values()].flat());
        expect(overlaps, 'two messages of one key ran at the same time').toEqual([]);
        for (const delivery of inbox.deliveries)
          expect(delivery.orderingKey).toBe(delivery.body.key);
        for (const key of keys) {
          const handled = inbox.deliveries
            .filter((delivery) => delivery.orderingKey === key)
            .map((delivery) => delivery.id);
          expect(handled, `order of key ${key}`).toEqual(sent.get(key));
        }
      },
    );

    suite.test(
      'a failing message holds back the later messages of its key, not those of other keys',
      async (t) => {
        t.requires(t.capabilities.ordering, 'ordering');
        const topic = t.name('topic');
        const consumer = t.bus.consumer<Step>(
          topic,
          t.name('sub'),
          consumerOptions({ concurrency: 4, maxAttempts: 5 }),
        );
        await consumer.ready();
        const producer = t.bus.producer<Step>(topic);
        const blocked: string[] = [];
        const free: string[] = [];
        for (const seq of range(3)) {
          blocked.push(await producer.send({ key: 'slow', seq }, { orderingKey: 'slow' }));
          free.push(await producer.send({ key: 'fast', seq }, { orderingKey: 'fast' }));
        }
        // Events in the order they happened: a start of `slow` #1 before `slow` #0 succeeded is a bug.
        const events: string[] = [];
        const inbox = t.inbox<Step>();
        await t.consume(consumer, inbox, async (message) => {
          const { key, seq } = message.body;
          events.push(`start ${key}#${seq} attempt ${message.attempt}`);
          await simulateWork(2);
          if (key === 'slow' && seq === 0 && inbox.of(message.id).length < 3) {
            events.push(`fail ${key}#${seq}`);
            throw new Error('first of its key fails twice');
          }
          events.push(`done ${key}#${seq}`);
        });
        await inbox.waitForIds([...blocked, ...free]);
        await t.waitFor(() => events.includes('done slow#2'), 'the last message of the slow key');
        const slowDone = events
          .filter((event) => event.startsWith('done slow'))
          .map((event) => event.slice(5));
        expect(slowDone).toEqual(['slow#0', 'slow#1', 'slow#2']);
        const firstDone = events.indexOf('done slow#0');
        const laterStarts = events.findIndex((event) => /^start slow#[12] /.test(event));
        expect(laterStarts, `events: ${events.join(' | ')}`).toBeGreaterThan(firstDone);
        const fastDone = events
          .filter((event) => event.startsWith('done fast'))
          .map((event) => event.slice(5));
        expect(fastDone).toEqual(['fast#0', 'fast#1', 'fast#2']);
        const attempts = inbox.of(blocked[0]!).map((delivery) => delivery.attempt);
        t.expectAttempts(attempts, [1, 2, 3], 'attempts of the first slow message');
      },
    );

    suite.test('without ordering, send with an orderingKey is rejected Unsupported', async (t) => {
      t.requiresAbsent(t.capabilities.ordering, 'ordering');
      const topic = t.name('topic');
      await expectOmnibusError(
        () => t.bus.producer(topic).send({ x: 1 }, { orderingKey: 'k' }),
        ['Unsupported'],
        'send with orderingKey on an adapter without ordering',
      );
    });
  });
}
