import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, range, type Suite, simulateWork } from './helpers.js';

/** Fan-out across subscriptions, competition within one. */
export function registerFanoutTests(suite: Suite): void {
  describe('fanout', () => {
    suite.test('every subscription of a topic gets every message', async (t) => {
      t.requires(t.capabilities.fanout, 'fanout');
      const topic = t.name('topic');
      const kitchen = t.bus.consumer<number>(topic, t.name('sub'), consumerOptions());
      const billing = t.bus.consumer<number>(topic, t.name('sub'), consumerOptions());
      await Promise.all([kitchen.ready(), billing.ready()]);
      const ids = await t.bus
        .producer<number>(topic)
        .sendBatch(range(5).map((n) => ({ body: n, attributes: { n: String(n) } })));
      const kitchenInbox = t.inbox<number>();
      const billingInbox = t.inbox<number>();
      await t.consume(kitchen, kitchenInbox);
      await t.consume(billing, billingInbox);
      await kitchenInbox.waitForIds(ids, 'every message in the first subscription');
      await billingInbox.waitForIds(ids, 'every message in the second subscription');
      for (const inbox of [kitchenInbox, billingInbox]) {
        ids.forEach((id, n) => {
          expect(inbox.of(id)[0]!.body).toBe(n);
          expect(inbox.of(id)[0]!.attributes).toEqual({ n: String(n) });
        });
      }
    });

    suite.test('a failure in one subscription does not redeliver to another', async (t) => {
      t.requires(t.capabilities.fanout, 'fanout');
      const topic = t.name('topic');
      const failing = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ maxAttempts: 3 }),
      );
      const healthy = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
      await Promise.all([failing.ready(), healthy.ready()]);
      const id = await t.bus.producer<string>(topic).send('shared');
      const failingInbox = t.inbox<string>();
      const healthyInbox = t.inbox<string>();
      await t.consume(failing, failingInbox, (message) => {
        if (failingInbox.of(message.id).length === 1)
          throw new Error('only this subscription fails');
      });
      await t.consume(healthy, healthyInbox);
      await failingInbox.waitForCount(2, 'the retry in the failing subscription');
      const sentinel = await t.bus.producer<string>(topic).send('after');
      await healthyInbox.waitForIds([id, sentinel]);
      t.expectAttempts(
        healthyInbox.of(id).map((delivery) => delivery.attempt),
        [1],
        'the healthy subscription',
      );
    });

    suite.test(
      'consumers sharing a subscription compete: each message is handled once, by one of them',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const other = await t.connect();
        const first = t.bus.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        const second = other.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        await Promise.all([first.ready(), second.ready()]);
        const inbox = t.inbox<number>();
        // A little work per message, so that neither consumer can drain the queue alone.
        await t.consume(first, inbox, () => simulateWork(5), 'first');
        await t.consume(second, inbox, () => simulateWork(5), 'second');
        const ids = await t.bus
          .producer<number>(topic)
          .sendBatch(range(30).map((n) => ({ body: n })));
        await inbox.waitForIds(ids);
        for (const id of ids) expect(inbox.of(id), `message ${id}`).toHaveLength(1);
        const byConsumer = new Set(inbox.deliveries.map((delivery) => delivery.consumer));
        expect([...byConsumer].sort(), 'both consumers should have taken part').toEqual([
          'first',
          'second',
        ]);
      },
    );

    suite.test(
      'without fanout, a second subscription on a topic is rejected Unsupported',
      async (t) => {
        t.requiresAbsent(t.capabilities.fanout, 'fanout');
        const topic = t.name('topic');
        await t.bus.consumer(topic, t.name('sub'), consumerOptions()).ready();
        await expectOmnibusError(
          () => t.bus.consumer(topic, t.name('sub'), consumerOptions()).ready(),
          ['Unsupported'],
          'ready() of a second subscription on one topic',
        );
      },
    );
  });
}
