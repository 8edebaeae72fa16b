import type { Message } from '@omnibus/core';
import { describe, expect } from 'vitest';
import {
  consumerOptions,
  expectOmnibusError,
  pullOne,
  range,
  type Suite,
  sendAll,
} from './helpers.js';

/** Settling: ack on success, nack and redelivery on failure, settle-once semantics. */
export function registerAckNackTests(suite: Suite): void {
  describe('ack-nack', () => {
    suite.test(
      'a handler that throws gets the message again: attempt 2, same id, body and publishedAt',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<{ order: number }>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts: 5 }),
        );
        await consumer.ready();
        const id = await t.bus
          .producer<{ order: number }>(topic)
          .send({ order: 7 }, { attributes: { kind: 'retry' } });
        const inbox = t.inbox<{ order: number }>();
        await t.consume(consumer, inbox, (message) => {
          if (inbox.of(message.id).length === 1) throw new Error('first attempt fails');
        });
        await inbox.waitForCount(2, 'a second delivery after the handler failed');
        const [first, second] = inbox.deliveries;
        expect(first!.id).toBe(id);
        expect(second!.id).toBe(id);
        t.expectAttempts([first!.attempt, second!.attempt], [1, 2], 'attempts');
        expect(second!.body).toEqual({ order: 7 });
        expect(second!.attributes).toEqual({ kind: 'retry' });
        expect(second!.publishedAt.getTime()).toBe(first!.publishedAt.getTime());
        // Acked on attempt 2: a sentinel sent afterwards arrives, and the message does not come back.
        const sentinel = await t.bus.producer<{ order: number }>(topic).send({ order: 8 });
        await inbox.waitForIds([sentinel]);
        expect(inbox.of(id)).toHaveLength(2);
      },
    );

    suite.test(
      'a synchronous throw or a rejection with a non-Error value fails the delivery too',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts: 5 }),
        );
        await consumer.ready();
        const [sync, rejectString, rejectUndefined] = await sendAll(t.bus.producer<string>(topic), [
          'sync',
          'reject-string',
          'reject-undefined',
        ]);
        const inbox = t.inbox<string>();
        await consumer.start((message) => {
          inbox.record(message);
          if (inbox.of(message.id).length > 1) return undefined;
          if (message.body === 'sync') throw new Error('thrown synchronously');
          if (message.body === 'reject-string') return Promise.reject('a string, not an Error');
          return Promise.reject(undefined);
        });
        for (const id of [sync!, rejectString!, rejectUndefined!]) {
          await inbox.waitForCount(2, `a redelivery of ${id}`, (delivery) => delivery.id === id);
          t.expectAttempts([inbox.of(id)[1]!.attempt], [2], `the redelivery of ${id}`);
        }
      },
    );

    suite.test('nack() releases pulled messages for redelivery with attempt + 1', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<number>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 2 }),
      );
      await consumer.ready();
      const ids = await sendAll(t.bus.producer<number>(topic), [1, 2]);
      const iterator = consumer.messages();
      // Take both before nacking, so the second take can't be the first message coming back.
      const taken: Message<number>[] = [];
      for (const _ of range(2)) taken.push((await iterator.next()).value!);
      expect(taken.map((message) => message.id).sort()).toEqual([...ids].sort());
      for (const message of taken) expect(await message.nack()).toBe('nacked');
      const again: Message<number>[] = [];
      for (const _ of range(2)) {
        const message = (await iterator.next()).value!;
        again.push(message);
        t.expectAttempts([message.attempt], [2], 'a nacked message');
        await message.ack();
      }
      expect(again.map((message) => message.id).sort()).toEqual([...ids].sort());
      await iterator.return?.();
    });

    suite.test('nack({ delayMs }) does not redeliver before the delay', async (t) => {
      // A nack delay is its own capability (Pub/Sub delays nacks but not publishes); every adapter has one.
      const delayMs = Math.min(1_000, t.capabilities.nackDelayMaxMs);
      const { iterator, message: first } = await pullOne(t, 'later');
      const { id } = first;
      const nackedAt = Date.now();
      expect(await first.nack({ delayMs })).toBe('nacked');
      const second = (await iterator.next()).value!;
      const redeliveredAt = Date.now();
      expect(second.id).toBe(id);
      t.expectAttempts([second.attempt], [2], 'the delivery after nack');
      // The window is the semantics: 5 ms of slack for timer rounding only.
      expect(redeliveredAt - nackedAt).toBeGreaterThanOrEqual(delayMs - 5);
      await second.ack();
      await iterator.return?.();
    });

    suite.test('a second settle is a no-op that returns the first outcome (ack)', async (t) => {
      const { topic, consumer, producer, iterator, message } = await pullOne(t, 'once');
      expect(await message.ack()).toBe('acked');
      expect(await message.ack()).toBe('acked');
      expect(await message.nack()).toBe('acked');
      expect(await message.deadLetter('too late')).toBe('acked');
      expect(message.outcome).toBe('acked');
      const sentinel = await producer.send('next');
      const next = (await iterator.next()).value!;
      expect(next.id, 'the acked message came back').toBe(sentinel);
      await next.ack();
      await iterator.return?.();
      await t.expectDeadLetterCount(
        t.bus.deadLetters(topic, consumer.subscription),
        0,
        'dead letters after acks',
      );
    });

    suite.test('a second settle after nack or deadLetter returns that first outcome', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 1 }),
      );
      await consumer.ready();
      const [nacked, deadLettered] = await sendAll(t.bus.producer<string>(topic), [
        'nack-me',
        'dead-letter-me',
      ]);
      const iterator = consumer.messages();
      const outcomes = new Map<string, string[]>();
      let nackedDeliveries = 0;
      for (let settled = 0; settled < 3; ) {
        const message = (await iterator.next()).value!;
        if (message.id === nacked) nackedDeliveries++;
        if (message.id === nacked && nackedDeliveries === 1) {
          outcomes.set('nack', [
            await message.nack(),
            await message.ack(),
            await message.deadLetter('no'),
          ]);
          expect(message.outcome).toBe('nacked');
        } else if (message.id === deadLettered) {
          outcomes.set('deadLetter', [
            await message.deadLetter('explicit'),
            await message.ack(),
            await message.nack(),
          ]);
          expect(message.outcome).toBe('dead-lettered');
        } else {
          expect(message.id).toBe(nacked);
          t.expectAttempts([message.attempt], [2], 'the ack after nack must not have removed it');
          await message.ack();
        }
        settled++;
      }
      await iterator.return?.();
      expect(outcomes.get('nack')).toEqual(['nacked', 'nacked', 'nacked']);
      expect(outcomes.get('deadLetter')).toEqual([
        'dead-lettered',
        'dead-lettered',
        'dead-lettered',
      ]);
      const letters = await t.peek(t.bus.deadLetters(topic, consumer.subscription), 10);
      expect(letters.map((letter) => letter.id)).toEqual([deadLettered]);
    });

    suite.test("a handler's own settle wins over how it returns", async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 1 }),
      );
      await consumer.ready();
      const producer = t.bus.producer<string>(topic);
      const [nackThenReturn, ackThenThrow] = await sendAll(producer, [
        'nack-then-return',
        'ack-then-throw',
      ]);
      const inbox = t.inbox<string>();
      await t.consume(consumer, inbox, async (message) => {
        if (inbox.of(message.id).length > 1) return;
        if (message.id === nackThenReturn) {
          await message.nack();
          return;
        }
        if (message.id === ackThenThrow) {
          await message.ack();
          throw new Error('thrown after ack');
        }
      });
      await inbox.waitForCount(
        2,
        'the redelivery of the message the handler nacked',
        (d) => d.id === nackThenReturn,
      );
      t.expectAttempts([inbox.of(nackThenReturn!)[1]!.attempt], [2], 'the nacked redelivery');
      const sentinel = await producer.send('sentinel');
      await inbox.waitForIds([sentinel]);
      expect(
        inbox.of(ackThenThrow!),
        'a message acked by its handler came back after the handler threw',
      ).toHaveLength(1);
      await t.expectDeadLetterCount(
        t.bus.deadLetters(topic, consumer.subscription),
        0,
        'dead letters after the handlers settled',
      );
    });

    suite.test('a message that keeps failing does not hold up the others', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 2, deadLetter: false }),
      );
      await consumer.ready();
      const producer = t.bus.producer<string>(topic);
      const poison = await producer.send('poison');
      const good = await sendAll(
        producer,
        range(10).map((n) => `good-${n}`),
      );
      const inbox = t.inbox<string>();
      await t.consume(consumer, inbox, (message) => {
        if (message.body === 'poison') throw new Error('always fails');
      });
      await inbox.waitForIds(good, 'every good message while the poison one keeps failing');
      await inbox.waitForCount(
        3,
        'the poison message retried',
        (delivery) => delivery.id === poison,
      );
      for (const id of good) expect(inbox.of(id)).toHaveLength(1);
    });

    suite.test(
      'settle arguments are checked (a rejected promise, not a throw), and a refused settle leaves the message unsettled',
      async (t) => {
        const { iterator, message } = await pullOne(t, 'argue');
        // Called outside expectOmnibusError: a synchronous throw fails the test here.
        const refusedDeadLetter = message.deadLetter('');
        const refusedNegative = message.nack({ delayMs: -1 });
        const refusedFraction = message.nack({ delayMs: 0.5 });
        await expectOmnibusError(
          () => refusedDeadLetter,
          ['InvalidArgument'],
          'deadLetter with an empty reason',
        );
        await expectOmnibusError(
          () => refusedNegative,
          ['InvalidArgument'],
          'nack with a negative delay',
        );
        await expectOmnibusError(
          () => refusedFraction,
          ['InvalidArgument'],
          'nack with a fractional delay',
        );
        expect(message.outcome).toBeUndefined();
        expect(await message.ack()).toBe('acked');
        await iterator.return?.();
      },
    );
  });
}
