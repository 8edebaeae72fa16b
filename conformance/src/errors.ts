import { OmnibusError } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, expectOmnibusError, type Suite } from './helpers.js';

/** Error codes for calls on closed buses and on names that don't exist. */
export function registerErrorTests(suite: Suite): void {
  describe('errors', () => {
    suite.test('send after bus.close() rejects Closed', async (t) => {
      const topic = t.name('topic');
      const closing = await t.connect();
      const producer = closing.producer<string>(topic);
      await closing.close();
      await expectOmnibusError(
        () => producer.send('too late'),
        ['Closed'],
        'send on a producer of a closed bus',
      );
      await expectOmnibusError(
        () => producer.sendBatch([{ body: 'too late' }]),
        ['Closed'],
        'sendBatch after close',
      );
      await expectOmnibusError(
        () => closing.producer<string>(topic).send('too late'),
        ['Closed'],
        'send on a producer made after close',
      );
    });

    suite.test('consuming after bus.close() rejects Closed', async (t) => {
      const topic = t.name('topic');
      const subscription = t.name('sub');
      const closing = await t.connect();
      const consumer = closing.consumer(topic, subscription, consumerOptions());
      await closing.close();
      await expectOmnibusError(() => consumer.ready(), ['Closed'], 'ready() after close');
      await expectOmnibusError(
        () => consumer.start(() => undefined),
        ['Closed'],
        'start() after close',
      );
      await expectOmnibusError(
        () => closing.deadLetters(topic, subscription).count(),
        ['Closed'],
        'deadLetters().count() after close',
      );
    });

    suite.test(
      'a consumer asking other dead-letter settings than its subscription has rejects AlreadyExists',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        await t.bus.consumer(topic, subscription, consumerOptions({ maxAttempts: 3 })).ready();
        const other = await t.connect();
        for (const [bus, where] of [
          [t.bus, 'the same bus'],
          [other, 'another bus'],
        ] as const) {
          const conflict = await expectOmnibusError(
            () => bus.consumer(topic, subscription, consumerOptions({ maxAttempts: 4 })).ready(),
            ['AlreadyExists'],
            `maxAttempts 4 on ${where}, where the subscription has 3`,
          );
          expect(conflict.message).toContain('maxAttempts');
          await expectOmnibusError(
            () => bus.consumer(topic, subscription, consumerOptions({ deadLetter: false })).ready(),
            ['AlreadyExists'],
            `deadLetter false on ${where}, where the subscription has a DLQ`,
          );
          await bus.consumer(topic, subscription, consumerOptions({ maxAttempts: 3 })).ready();
        }
      },
    );

    suite.test('stats of a subscription never created reject NotFound', async (t) => {
      const topic = t.name('topic');
      await t.bus.consumer(topic, t.name('sub'), consumerOptions()).ready();
      await expectOmnibusError(
        () => t.bus.consumer(topic, t.name('never'), consumerOptions()).stats(),
        ['NotFound'],
        'stats() of a subscription that was never created, on an existing topic',
      );
      await expectOmnibusError(
        () => t.bus.consumer(t.name('nosuchtopic'), t.name('never'), consumerOptions()).stats(),
        ['NotFound'],
        'stats() on a topic that was never created',
      );
    });

    suite.test('dead letters of a subscription never created reject NotFound', async (t) => {
      const topic = t.name('topic');
      await t.bus.consumer(topic, t.name('sub'), consumerOptions()).ready();
      const missing = t.bus.deadLetters(topic, t.name('never'));
      await expectOmnibusError(() => missing.count(), ['NotFound'], 'deadLetters(never).count()');
      // Where peek is not declared, core refuses it before asking the broker.
      const peekRefusal =
        t.capabilities.deadLetterAdmin.peek === 'none' ? 'Unsupported' : 'NotFound';
      await expectOmnibusError(() => missing.peek(1), [peekRefusal], 'deadLetters(never).peek()');
      await expectOmnibusError(
        () => missing.redrive(),
        ['NotFound'],
        'deadLetters(never).redrive()',
      );
    });

    suite.test(
      'send to a topic nobody subscribed to either succeeds or rejects NotFound',
      async (t) => {
        const producer = t.bus.producer<string>(t.name('lonely'));
        try {
          const id = await producer.send('into the void');
          expect(typeof id).toBe('string');
        } catch (error) {
          expect(OmnibusError.isInstance(error), String(error)).toBe(true);
          expect((error as OmnibusError).code).toBe('NotFound');
        }
      },
    );
  });
}
