import { type Message, OmnibusError } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, gate, range, type Suite, simulateWork, within } from './helpers.js';

/** stop() and close(): finish what runs, release the rest, lose nothing. */
export function registerShutdownTests(suite: Suite): void {
  describe('shutdown', () => {
    suite.test('stop() waits for running handlers and acks what they finish', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      const consumer = t.bus.consumer<string>(
        topic,
        subscription,
        consumerOptions({ shutdownTimeoutMs: t.timeoutMs }),
      );
      await consumer.ready();
      const id = await t.bus.producer<string>(topic).send('in flight');
      const release = gate();
      t.defer(() => release.open());
      let handlerFinishedAt = 0;
      const inbox = t.inbox<string>();
      await t.consume(consumer, inbox, async () => {
        await release.promise;
        handlerFinishedAt = Date.now();
      });
      await inbox.waitForIds([id]);
      let stoppedAt = 0;
      const stopping = consumer.stop().then(() => {
        stoppedAt = Date.now();
      });
      // The handler's remaining work; stop() must not resolve before it is done.
      await simulateWork(50);
      release.open();
      await within(stopping, t.timeoutMs, 'stop()');
      expect(handlerFinishedAt).toBeGreaterThan(0);
      expect(stoppedAt).toBeGreaterThanOrEqual(handlerFinishedAt);
      // It was acked: a new consumer sees only what is sent next.
      const other = await t.connect();
      const otherInbox = t.inbox<string>();
      await t.consume(other.consumer<string>(topic, subscription, consumerOptions()), otherInbox);
      const sentinel = await t.bus.producer<string>(topic).send('after');
      await otherInbox.waitForIds([sentinel]);
      expect(otherInbox.of(id)).toHaveLength(0);
      expect(inbox.of(id)).toHaveLength(1);
    });

    suite.test(
      'stop() under load loses nothing: every message is handled by this or the next consumer',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const first = t.bus.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 10 }),
        );
        await first.ready();
        const ids = await t.bus
          .producer<number>(topic)
          .sendBatch(range(200).map((n) => ({ body: n })));
        const handled = new Set<string>();
        let stopped = false;
        let handledAfterStop = 0;
        let stopping: Promise<void> | undefined;
        await first.start(async (message) => {
          if (stopped) handledAfterStop++;
          await simulateWork(1 + (message.body % 3));
          handled.add(message.id);
          if (handled.size >= 50 && stopping === undefined) {
            stopping = first.stop().then(() => {
              stopped = true;
            });
          }
        });
        await t.waitFor(() => stopping !== undefined, '50 messages handled');
        await within(stopping!, t.timeoutMs, 'stop() under load');
        expect(handled.size).toBeLessThan(200);
        const other = await t.connect();
        const second = other.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 10 }),
        );
        await second.start((message) => {
          handled.add(message.id);
        });
        await t.waitFor(
          () => ids.every((id) => handled.has(id)),
          () => `every message handled (${ids.filter((id) => !handled.has(id)).length} missing)`,
        );
        expect(handledAfterStop, 'a handler ran after stop() resolved').toBe(0);
        const { stats } = t.capabilities;
        if (stats.waiting || stats.inFlight) {
          await t.waitFor(async () => {
            const now = await second.stats();
            return (!stats.waiting || now.waiting === 0) && (!stats.inFlight || now.inFlight === 0);
          }, 'an empty subscription');
        }
        await t.expectDeadLetterCount(
          t.bus.deadLetters(topic, subscription),
          0,
          'dead letters after stop() under load',
        );
      },
      10_000,
    );

    suite.test('stop() releases a message whose handler outlives shutdownTimeoutMs', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      const other = await t.connect();
      const options = consumerOptions<string>({ concurrency: 1, shutdownTimeoutMs: 200 });
      const consumers = {
        first: t.bus.consumer<string>(topic, subscription, options),
        second: other.consumer<string>(topic, subscription, options),
      };
      await Promise.all([consumers.first.ready(), consumers.second.ready()]);
      const stuck = gate();
      t.defer(() => stuck.open());
      const inbox = t.inbox<string>();
      const behaviour = async (message: Message<string>) => {
        if (inbox.of(message.id).length === 1) await stuck.promise;
      };
      await t.consume(consumers.first, inbox, behaviour, 'first');
      await t.consume(consumers.second, inbox, behaviour, 'second');
      const id = await t.bus.producer<string>(topic).send('stuck');
      await inbox.waitForIds([id]);
      const holder = inbox.of(id)[0]!.consumer as keyof typeof consumers;
      await within(consumers[holder].stop(), t.timeoutMs, 'stop() with a stuck handler');
      await inbox.waitForCount(
        2,
        'the released message delivered again',
        (delivery) => delivery.id === id,
      );
      const again = inbox.of(id)[1]!;
      t.expectAttempts([again.attempt], [2], 'the delivery after the stuck handler');
      expect(again.consumer).not.toBe(holder);
      // The stuck handler finishing now must not settle a message it no longer holds.
      stuck.open();
      const sentinel = await t.bus.producer<string>(topic).send('after');
      await inbox.waitForIds([sentinel]);
      expect(inbox.of(id)).toHaveLength(2);
      await t.expectDeadLetterCount(
        t.bus.deadLetters(topic, subscription),
        0,
        'dead letters after the stuck handler',
      );
    });

    suite.test('stop() ends a pending messages() iteration', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const iterator = consumer.messages();
      // One message first, so the pull is open and idle when stop() comes.
      const id = await t.bus.producer(topic).send('first');
      const first = await iterator.next();
      expect(first.value!.id).toBe(id);
      await first.value!.ack();
      const pending = iterator.next();
      await within(consumer.stop(), t.timeoutMs, 'stop() with an idle pull');
      const result = await within(pending, t.timeoutMs, 'the pending next() after stop()');
      expect(result.done).toBe(true);
    });

    suite.test('stop() while the first next() is still opening ends the iteration', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
      const iterator = consumer.messages();
      // No ready() first: stop() arrives while the pull is still creating its subscription.
      const pending = iterator.next();
      await within(consumer.stop(), t.timeoutMs, 'stop() during an opening pull');
      const result = await within(pending, t.timeoutMs, 'the first next() after stop()');
      expect(result.done).toBe(true);
    });

    suite.test('bus.close() stops its consumers and is idempotent', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      const closing = await t.connect();
      const closedInbox = t.inbox<string>();
      await t.consume(
        closing.consumer<string>(topic, subscription, consumerOptions()),
        closedInbox,
      );
      const before = await t.bus.producer<string>(topic).send('before close');
      await closedInbox.waitForIds([before]);
      await within(closing.close(), t.timeoutMs, 'bus.close()');
      await within(closing.close(), t.timeoutMs, 'a second bus.close()');
      const liveInbox = t.inbox<string>();
      await t.consume(t.bus.consumer<string>(topic, subscription, consumerOptions()), liveInbox);
      const after = await t.bus.producer<string>(topic).send('after close');
      await liveInbox.waitForIds([after]);
      expect(closedInbox.of(after), 'a consumer of a closed bus still took messages').toHaveLength(
        0,
      );
    });

    suite.test('closing buses with running consumers, all at once, loses nothing', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      await t.bus.consumer(topic, subscription, consumerOptions()).ready();
      const buses = await Promise.all(range(5).map(() => t.connect()));
      await Promise.all(
        buses.map((bus) =>
          bus.consumer(topic, subscription, consumerOptions()).start(() => undefined),
        ),
      );
      await within(
        Promise.all(buses.map((bus) => bus.close())),
        t.timeoutMs,
        'closing five buses at once',
      );
      const ids = await t.bus
        .producer<number>(topic)
        .sendBatch(range(20).map((n) => ({ body: n })));
      const inbox = t.inbox<number>();
      await t.consume(t.bus.consumer<number>(topic, subscription, consumerOptions()), inbox);
      await inbox.waitForIds(ids);
    });

    suite.test('closing buses while their consumers start loses nothing', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      await t.bus.consumer(topic, subscription, consumerOptions()).ready();
      const buses = await Promise.all(range(5).map(() => t.connect()));
      // Settled at once, so a start that rejects while the closes run is never an unhandled rejection.
      const starts = Promise.allSettled(
        buses.map((bus) =>
          bus.consumer(topic, subscription, consumerOptions()).start(() => undefined),
        ),
      );
      await within(
        Promise.all(buses.map((bus) => bus.close())),
        t.timeoutMs,
        'closing five buses at once',
      );
      // A start racing its bus's close may resolve or reject Closed; it must not hang or leak a session.
      const outcomes = await within(starts, t.timeoutMs, 'consumers starting on closing buses');
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(
            OmnibusError.isInstance(outcome.reason) && outcome.reason.code,
            String(outcome.reason),
          ).toBe('Closed');
        }
      }
      const ids = await t.bus
        .producer<number>(topic)
        .sendBatch(range(20).map((n) => ({ body: n })));
      const inbox = t.inbox<number>();
      await t.consume(t.bus.consumer<number>(topic, subscription, consumerOptions()), inbox);
      await inbox.waitForIds(ids);
      expect(inbox.deliveries).toHaveLength(20);
    });
  });
}
