// Producer-declared subscriptions: messages sent before any consumer ran are kept for them.
import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, type Suite, sendAll } from './helpers.js';

/**
 * `bus.producer(topic, { subscriptions })` and `bus.declare(topic, subscriptions)`: the topic and
 * every declared subscription (with its DLQ) exist before the first message is published, so a
 * producer deployed before its consumers loses nothing; declarations and consumers that disagree
 * on `maxAttempts` or `deadLetter` get `AlreadyExists` naming the setting, on every adapter.
 */
export function registerDeclareTests(suite: Suite): void {
  describe('declare', () => {
    suite.test(
      'messages sent before any consumer started reach each subscription the producer declared',
      async (t) => {
        const topic = t.name('topic');
        const kitchen = t.name('kitchen');
        const audit = t.name('audit');
        const subscriptions = t.capabilities.fanout
          ? { [kitchen]: { maxAttempts: 3 }, [audit]: {} }
          : { [kitchen]: { maxAttempts: 3 } };
        const producer = t.bus.producer<number>(topic, { subscriptions });
        const ids = await sendAll(producer, [1, 2, 3]);
        // The consumers run in another "process", started after every message was sent.
        const later = await t.connect();
        const inboxes = Object.keys(subscriptions).map((subscription) => {
          const inbox = t.inbox<number>();
          const options = subscription === kitchen ? { maxAttempts: 3 } : {};
          return {
            subscription,
            inbox,
            started: t.consume(
              later.consumer<number>(topic, subscription, consumerOptions(options)),
              inbox,
            ),
          };
        });
        for (const { started } of inboxes) await started;
        for (const { subscription, inbox } of inboxes) {
          await inbox.waitForIds(ids, `messages sent before ${subscription} had a consumer`);
        }
        const sentinel = await producer.send(4);
        for (const { subscription, inbox } of inboxes) {
          await inbox.waitForIds([sentinel]);
          for (const id of ids)
            expect(inbox.of(id), `${subscription}: deliveries of ${id}`).toHaveLength(1);
        }
      },
    );

    suite.test(
      'bus.declare() keeps messages any producer sends for the declared subscription',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        await t.bus.declare(topic, { [subscription]: { maxAttempts: 2 } });
        const other = await t.connect();
        const early = await other.producer<string>(topic).send('sent by a plain producer');
        const inbox = t.inbox<string>();
        await t.consume(
          t.bus.consumer<string>(topic, subscription, consumerOptions({ maxAttempts: 2 })),
          inbox,
        );
        await inbox.waitForIds([early]);
      },
    );

    suite.test(
      'a consumer asking ordering other than the declared subscription gets AlreadyExists; one that asks the same runs',
      async (t) => {
        t.requires(t.capabilities.ordering, 'ordering');
        const topic = t.name('topic');
        const unordered = t.name('sub');
        await t.bus.declare(topic, { [unordered]: { ordering: false } });
        const other = await t.connect();
        for (const [bus, where] of [
          [t.bus, 'the declaring bus'],
          [other, 'another bus'],
        ] as const) {
          const conflict = await expectOmnibusError(
            () => bus.consumer(topic, unordered, consumerOptions()).ready(),
            ['AlreadyExists'],
            `a consumer with the default ordering on ${where}, where the declaration says false`,
          );
          expect(conflict.message).toContain('ordering');
          await bus.consumer(topic, unordered, consumerOptions({ ordering: false })).ready();
        }
      },
    );

    suite.test(
      'a consumer whose maxAttempts or deadLetter disagree with the declaration gets AlreadyExists naming the setting',
      async (t) => {
        const topic = t.name('topic');
        // A topic of its own: queue-mode adapters (fanout false) take one subscription per topic.
        const otherTopic = t.name('topic');
        const declared = t.name('sub');
        const noDlq = t.name('sub');
        await t.bus.declare(topic, { [declared]: { maxAttempts: 4 } });
        // Declared through a producer: its first send creates the subscription.
        const producer = t.bus.producer<string>(otherTopic, {
          subscriptions: { [noDlq]: { deadLetter: false } },
        });
        await producer.send('creates the declared subscriptions');
        const other = await t.connect();
        for (const [bus, where] of [
          [t.bus, 'the declaring bus'],
          [other, 'another bus'],
        ] as const) {
          const attempts = await expectOmnibusError(
            () => bus.consumer(topic, declared, consumerOptions({ maxAttempts: 3 })).ready(),
            ['AlreadyExists'],
            `maxAttempts 3 on ${where}, where the declaration says 4`,
          );
          expect(attempts.message).toContain('maxAttempts');
          const deadLetter = await expectOmnibusError(
            () =>
              bus
                .consumer(topic, declared, consumerOptions({ maxAttempts: 4, deadLetter: false }))
                .ready(),
            ['AlreadyExists'],
            `deadLetter false on ${where}, where the declaration has a DLQ`,
          );
          expect(deadLetter.message).toContain('deadLetter');
          const dlq = await expectOmnibusError(
            () => bus.consumer(otherTopic, noDlq, consumerOptions()).ready(),
            ['AlreadyExists'],
            `a DLQ on ${where}, where the producer declared deadLetter false`,
          );
          expect(dlq.message).toContain('deadLetter');
          await bus.consumer(topic, declared, consumerOptions({ maxAttempts: 4 })).ready();
          await bus.consumer(otherTopic, noDlq, consumerOptions({ deadLetter: false })).ready();
        }
      },
    );

    suite.test(
      'without fanout, a declaration of two subscriptions is refused whole, before anything is created',
      async (t) => {
        t.requiresAbsent(t.capabilities.fanout, 'fanout');
        const topic = t.name('topic');
        const [first, second, alone] = [t.name('a'), t.name('b'), t.name('alone')];
        await expectOmnibusError(
          () => t.bus.declare(topic, { [first]: {}, [second]: {} }),
          ['Unsupported'],
          'two subscriptions declared on one topic without fanout',
        );
        // Had the first been created, the topic would now refuse any other subscription.
        await t.bus.declare(topic, { [alone]: {} });
        const id = await t.bus.producer<string>(topic).send('kept');
        const inbox = t.inbox<string>();
        await t.consume(t.bus.consumer<string>(topic, alone, consumerOptions()), inbox);
        await inbox.waitForIds([id]);
      },
    );

    suite.test(
      'declaring is idempotent across buses; a disagreeing declaration gets AlreadyExists',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const declaration = { [subscription]: { maxAttempts: 4 } };
        const other = await t.connect();
        await t.bus.declare(topic, declaration);
        await t.bus.declare(topic, declaration);
        await other.declare(topic, declaration);
        const first = await t.bus
          .producer<string>(topic, { subscriptions: declaration })
          .send('one');
        const second = await other
          .producer<string>(topic, { subscriptions: declaration })
          .send('two');
        const conflict = await expectOmnibusError(
          () => other.declare(topic, { [subscription]: { maxAttempts: 6 } }),
          ['AlreadyExists'],
          'a declaration of maxAttempts 6 on another bus, where 4 was declared',
        );
        expect(conflict.message).toContain('maxAttempts');
        const inbox = t.inbox<string>();
        await t.consume(
          t.bus.consumer<string>(topic, subscription, consumerOptions({ maxAttempts: 4 })),
          inbox,
        );
        await inbox.waitForIds([first, second]);
        const sentinel = await t.bus.producer<string>(topic).send('end');
        await inbox.waitForIds([sentinel]);
        expect(inbox.of(first)).toHaveLength(1);
        expect(inbox.of(second)).toHaveLength(1);
      },
    );
  });
}
