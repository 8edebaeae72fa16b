// Topology delete: bus.deleteSubscription and bus.deleteTopic remove what they name, idempotently.
import type { DeadLetters } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, type Suite, sendAll } from './helpers.js';

/**
 * `bus.deleteSubscription(topic, subscription)` removes the subscription and its DLQ with everything
 * in them, and resolves `false` once there is nothing left to delete; `bus.deleteTopic(topic)`
 * likewise for the topic (its subscriptions deleted first: where they live inside the topic, as on
 * Redis, deleting it before them is refused with `InvalidArgument`). What the bus memoized is
 * forgotten, so a consumer or producer used afterwards creates them again, empty.
 */
export function registerTopologyDeleteTests(suite: Suite): void {
  describe('topology delete', () => {
    suite.test(
      'deleteSubscription removes the subscription and its DLQ; a second call resolves false; re-creating starts empty',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const consumer = t.bus.consumer<number>(topic, subscription, consumerOptions());
        await consumer.ready();
        const producer = t.bus.producer<number>(topic);
        await sendAll(producer, [1, 2, 3]);
        const iterator = consumer.messages();
        await (await iterator.next()).value!.deadLetter('parked before the delete');
        await iterator.return?.();
        await consumer.stop();
        const dlq = t.bus.deadLetters(topic, subscription);
        await t.expectDeadLetterCount(dlq, 1, 'the DLQ before the delete');
        if (t.capabilities.stats.waiting) {
          await t.waitFor(
            async () => (await consumer.stats()).waiting === 2,
            'two messages waiting before the delete',
          );
        }

        expect(await t.bus.deleteSubscription(topic, subscription)).toBe(true);
        await expectOmnibusError(() => consumer.stats(), ['NotFound'], 'stats after the delete');
        await expectOmnibusError(() => dlq.count(), ['NotFound'], 'the DLQ count after the delete');
        expect(await t.bus.deleteSubscription(topic, subscription)).toBe(false);
        const other = await t.connect();
        expect(await other.deleteSubscription(topic, subscription)).toBe(false);

        // The same bus creates it again, empty: nothing of what it held comes back.
        const again = t.bus.consumer<number>(topic, subscription, consumerOptions());
        await again.ready();
        await t.expectDeadLetterCount(
          t.bus.deadLetters(topic, subscription) as DeadLetters<unknown>,
          0,
          'the DLQ of the re-created subscription',
        );
        const inbox = t.inbox<number>();
        await t.consume(again, inbox);
        const sentinel = await producer.send(4);
        await inbox.waitForIds([sentinel]);
        expect(inbox.ids()).toEqual([sentinel]);
      },
    );

    suite.test(
      'deleteSubscription leaves the topic and its other subscriptions alone',
      async (t) => {
        t.requires(t.capabilities.fanout, 'fanout');
        const topic = t.name('topic');
        const doomed = t.name('sub');
        const kept = t.name('sub');
        await t.bus.declare(topic, { [doomed]: {}, [kept]: {} });
        const producer = t.bus.producer<string>(topic);
        const before = await producer.send('before');
        expect(await t.bus.deleteSubscription(topic, doomed)).toBe(true);
        const after = await producer.send('after');
        const inbox = t.inbox<string>();
        await t.consume(t.bus.consumer<string>(topic, kept, consumerOptions()), inbox);
        await inbox.waitForIds([before, after]);
      },
    );

    suite.test(
      'a producer that declared a subscription declares it again after the subscription was deleted',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const producer = t.bus.producer<string>(topic, { subscriptions: { [subscription]: {} } });
        await producer.send('lost with the subscription');
        expect(await t.bus.deleteSubscription(topic, subscription)).toBe(true);
        const kept = await producer.send('kept by the declaration made again');
        const inbox = t.inbox<string>();
        await t.consume(t.bus.consumer<string>(topic, subscription, consumerOptions()), inbox);
        await inbox.waitForIds([kept]);
        const sentinel = await producer.send('end');
        await inbox.waitForIds([sentinel]);
        expect(inbox.ids().sort()).toEqual([kept, sentinel].sort());
      },
    );

    suite.test(
      'deleteTopic resolves true, then false; a topic with subscriptions is deleted after them (or refused InvalidArgument while they exist)',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        expect(await t.bus.deleteTopic(t.name('topic'))).toBe(false);
        await t.bus.declare(topic, { [subscription]: {} });
        let deleted = false;
        try {
          deleted = await t.bus.deleteTopic(topic);
        } catch (error) {
          const refused = await expectOmnibusError(
            () => Promise.reject(error),
            ['InvalidArgument'],
            'deleteTopic while a subscription exists',
          );
          expect(refused.message).toContain(subscription);
        }
        expect(await t.bus.deleteSubscription(topic, subscription)).toBe(true);
        if (!deleted) expect(await t.bus.deleteTopic(topic)).toBe(true);
        expect(await t.bus.deleteTopic(topic)).toBe(false);

        // The same bus creates the topic again for a producer, and a new subscription gets its messages.
        const consumer = t.bus.consumer<string>(topic, subscription, consumerOptions());
        await consumer.ready();
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox);
        const id = await t.bus.producer<string>(topic).send('after the delete');
        await inbox.waitForIds([id]);
        await consumer.stop();
        expect(await t.bus.deleteSubscription(topic, subscription)).toBe(true);
        expect(await t.bus.deleteTopic(topic)).toBe(true);
      },
    );

    suite.test('names are checked before any I/O; a closed bus rejects Closed', async (t) => {
      for (const [what, call] of [
        ['a topic name with a space', () => t.bus.deleteTopic('bad name')],
        ['an empty subscription name', () => t.bus.deleteSubscription('orders', '')],
        [
          'a subscription name starting with a digit',
          () => t.bus.deleteSubscription('orders', '1st'),
        ],
      ] as const) {
        await expectOmnibusError(call, ['InvalidArgument'], what);
      }
      const other = await t.connect();
      await other.close();
      await expectOmnibusError(
        () => other.deleteTopic('orders'),
        ['Closed'],
        'deleteTopic after close',
      );
      await expectOmnibusError(
        () => other.deleteSubscription('orders', 'kitchen'),
        ['Closed'],
        'deleteSubscription after close',
      );
    });
  });
}
