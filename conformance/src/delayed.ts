import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, type Suite } from './helpers.js';

/** Delayed delivery where `capabilities.delayedDelivery`, and its limits. */
export function registerDelayedTests(suite: Suite): void {
  describe('delayed', () => {
    suite.test(
      'a delayed message is not delivered before delayMs, and later undelayed ones overtake it',
      async (t) => {
        const { delayedDelivery } = t.capabilities;
        t.requires(delayedDelivery !== false, 'delayedDelivery');
        const delayMs = Math.min(1_000, delayedDelivery as number);
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox);
        const producer = t.bus.producer<string>(topic);
        const sentAt = Date.now();
        const delayed = await producer.send('delayed', {
          delayMs,
          attributes: { kind: 'delayed' },
        });
        const immediate = await producer.send('immediate');
        await inbox.waitForIds([delayed, immediate]);
        const late = inbox.of(delayed)[0]!;
        // The window is the semantics: 5 ms of slack for timer rounding only.
        expect(late.receivedAt - sentAt).toBeGreaterThanOrEqual(delayMs - 5);
        t.expectAttempts([late.attempt], [1], 'the delayed delivery');
        expect(late.attributes).toEqual({ kind: 'delayed' });
        expect(inbox.ids().indexOf(immediate)).toBeLessThan(inbox.ids().indexOf(delayed));
        // publishedAt is the time of send, not of delivery.
        expect(late.publishedAt.getTime()).toBeLessThan(sentAt + delayMs);
      },
    );

    suite.test('sendBatch honours each entry’s delayMs', async (t) => {
      const { delayedDelivery } = t.capabilities;
      t.requires(delayedDelivery !== false, 'delayedDelivery');
      // Long enough that the undelayed entry arrives first on a poll-based broker (SQS rounds up
      // to whole seconds, and a long poll on an emulator may wake late): order is what's asserted.
      const delayMs = Math.min(2_000, delayedDelivery as number);
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      const inbox = t.inbox<string>();
      await t.consume(consumer, inbox);
      const sentAt = Date.now();
      const [late, early] = await t.bus
        .producer<string>(topic)
        .sendBatch([{ body: 'late', delayMs }, { body: 'early' }]);
      await inbox.waitForIds([late!, early!]);
      expect(inbox.of(late!)[0]!.receivedAt - sentAt).toBeGreaterThanOrEqual(delayMs - 5);
      expect(inbox.ids().indexOf(early!)).toBeLessThan(inbox.ids().indexOf(late!));
    });

    suite.test('delayMs above capabilities.delayedDelivery is rejected', async (t) => {
      const { delayedDelivery } = t.capabilities;
      t.requires(delayedDelivery !== false, 'delayedDelivery');
      await expectOmnibusError(
        () =>
          t.bus
            .producer(t.name('topic'))
            .send('too late', { delayMs: (delayedDelivery as number) + 1 }),
        ['InvalidArgument', 'Unsupported'],
        `delayMs ${(delayedDelivery as number) + 1}, above the declared maximum`,
      );
    });

    suite.test('without delayedDelivery, send with delayMs is rejected Unsupported', async (t) => {
      t.requiresAbsent(t.capabilities.delayedDelivery !== false, 'delayedDelivery');
      await expectOmnibusError(
        () => t.bus.producer(t.name('topic')).send('later', { delayMs: 1_000 }),
        ['Unsupported'],
        'send with delayMs on an adapter without delayed delivery',
      );
    });
  });
}
