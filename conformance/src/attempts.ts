// Attempts count deliveries a handler got, and every dead letter records the exact count and the real cause.
import { describe, expect } from 'vitest';
import { consumerOptions, range, type Suite, sendAll, within } from './helpers.js';

/**
 * What `msg.attempt` and a dead letter's `attempts` and `reason` say, the same on every adapter:
 * a delivery no handler saw (released by stop()) is not an attempt, nor is one a handler handed
 * back with `release()`; an explicit nack on the last
 * attempt dead-letters with "nacked", an unsettled last attempt with "lease expired", each with
 * the attempts a handler really had (the handler-error reason is checked in `dead-letter`).
 */
export function registerAttemptTests(suite: Suite): void {
  describe('attempts', () => {
    suite.test(
      'messages released by stop() before any handler saw them come back with the same attempt',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const first = t.bus.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 8 }),
        );
        await first.ready();
        const ids = await sendAll(t.bus.producer<number>(topic), range(6));
        // Pull mode takes up to `concurrency` messages from the broker; only the first is yielded.
        const iterator = first.messages();
        const taken = (await iterator.next()).value!;
        t.expectAttempts([taken.attempt], [1], 'the first delivery');
        await taken.ack();
        await iterator.return?.();
        await within(first.stop(), t.timeoutMs, 'stop() of the pulling consumer');
        const second = t.bus.consumer<number>(topic, subscription, consumerOptions());
        const inbox = t.inbox<number>();
        await t.consume(second, inbox);
        const rest = ids.filter((id) => id !== taken.id);
        await inbox.waitForIds(rest);
        if (t.exactAttempts) {
          expect(
            inbox.deliveries.map((delivery) => `${delivery.body}: attempt ${delivery.attempt}`),
            'a release is not an attempt',
          ).toEqual(inbox.deliveries.map((delivery) => `${delivery.body}: attempt 1`));
        }
        t.expectAttempts(
          inbox.deliveries.map((delivery) => delivery.attempt),
          inbox.deliveries.map(() => 1),
          'a release is not an attempt',
        );
      },
    );

    suite.test(
      'release() hands a message back without using an attempt: it comes back with the same attempt, even after the last',
      async (t) => {
        const topic = t.name('topic');
        // Where attempts are approximate a release may still count (SQS FIFO): room for that.
        const maxAttempts = t.exactAttempts ? 2 : 5;
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts, concurrency: 4 }),
        );
        await consumer.ready();
        const id = await t.bus.producer<string>(topic).send('not now');
        const inbox = t.inbox<string>();
        // By delivery: the redelivery may be handled before the release() that caused it resolves.
        const settles: string[][] = [];
        await t.consume(consumer, inbox, async (message) => {
          const delivery = inbox.of(message.id).length;
          if (delivery === 1) settles[0] = [await message.nack()];
          else if (delivery === 2) {
            // After a turn of the event loop, as a handler that waited for something would: the
            // consumer is waiting for more messages meanwhile, and must still get this one back.
            await new Promise((resolve) => setImmediate(resolve));
            // On the last attempt: a nack would dead-letter it, a release hands it back.
            const outcomes = [await message.release()];
            outcomes.push(
              await message.ack(),
              await message.nack(),
              await message.deadLetter('no'),
            );
            settles[1] = [...outcomes, String(message.outcome)];
          } else settles[delivery - 1] = [await message.ack()];
        });
        await inbox.waitForCount(3, 'the delivery after the release');
        await t.waitFor(
          () => settles.filter((entry) => entry !== undefined).length === 3,
          'the settles of three deliveries',
        );
        expect(settles).toEqual([
          ['nacked'],
          ['released', 'released', 'released', 'released', 'released'],
          ['acked'],
        ]);
        t.expectAttempts(
          inbox.of(id).map((delivery) => delivery.attempt),
          [1, 2, 2],
          'attempts of a nacked, then released, then acked message',
        );
        await t.expectDeadLetterCount(
          t.bus.deadLetters(topic, consumer.subscription),
          0,
          'dead letters after a release on the last attempt',
        );
      },
    );

    suite.test(
      'a consumer whose every slot releases keeps receiving: concurrency 1, the first message released, every message handled after it',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ concurrency: 1 }),
        );
        await consumer.ready();
        const producer = t.bus.producer<string>(topic);
        const ids: string[] = [];
        for (const body of ['first', 'second', 'third']) ids.push(await producer.send(body));
        const inbox = t.inbox<string>();
        let released: string | undefined;
        await t.consume(consumer, inbox, async (message) => {
          if (released !== undefined) return;
          released = message.id;
          await message.release();
        });
        // The one slot released: the consumer must still receive, the released message included.
        await inbox.waitForIds(ids);
        await inbox.waitForCount(
          2,
          'the released message back',
          (delivery) => delivery.id === released,
        );
        t.expectAttempts(
          inbox.of(released!).map((delivery) => delivery.attempt),
          [1, 1],
          'attempts of a released, then handled message',
        );
      },
    );

    suite.test(
      'a handler that nacks every attempt is dead-lettered on the last one: attempts = maxAttempts, reason "nacked"',
      async (t) => {
        const topic = t.name('topic');
        const maxAttempts = 3;
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts }),
        );
        await consumer.ready();
        const id = await t.bus.producer<string>(topic).send('never good enough');
        const inbox = t.inbox<string>();
        const outcomes: string[] = [];
        await t.consume(consumer, inbox, async (message) => {
          outcomes.push(await message.nack());
        });
        const dlq = t.bus.deadLetters<string>(topic, consumer.subscription);
        await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
        // Where dead-lettering is a send then a delete (SQS), the DLQ counts the letter before the
        // last nack() resolves.
        await t.waitFor(
          () => outcomes.length === inbox.of(id).length,
          'the last nack() to resolve',
        );
        const handled = inbox.of(id).length;
        t.expectAttempts(
          inbox.of(id).map((delivery) => delivery.attempt),
          t.exactAttempts ? [1, 2, 3] : inbox.of(id).map((_, index) => index + 1),
          'attempts of the nacked message',
        );
        if (t.exactAttempts) expect(outcomes).toEqual(['nacked', 'nacked', 'dead-lettered']);
        else expect(outcomes.at(-1)).toBe('dead-lettered');
        const [letter] = await t.peek(dlq);
        expect(letter!.id).toBe(id);
        if (t.exactAttempts) {
          t.expectLetterAttempts(letter!.attempts, maxAttempts, 'attempts of the dead letter');
          expect(letter!.reason).toBe(`nacked on attempt ${maxAttempts} of ${maxAttempts}`);
        } else {
          expect(letter!.attempts).toBeGreaterThanOrEqual(handled);
          expect(letter!.reason).toMatch(/^(nacked|lease expired) on attempt \d+ of 3/);
        }
      },
    );

    /**
     * The last attempt ends unsettled: the holder's bus closes while it holds the message (as a
     * crashed process would), so the next delivery is over maxAttempts and is not handled.
     */
    suite.test(
      'a last attempt that was never settled is dead-lettered with reason "lease expired" and the attempts handled',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const crashing = await t.connect();
        const options = consumerOptions<string>({
          concurrency: 1,
          maxAttempts: 1,
          shutdownTimeoutMs: 100,
        });
        const holder = crashing.consumer<string>(topic, subscription, options);
        const survivor = t.bus.consumer<string>(topic, subscription, options);
        await Promise.all([holder.ready(), survivor.ready()]);
        const id = await t.bus.producer<string>(topic).send('abandoned');
        const taken = (await holder.messages().next()).value!;
        expect(taken.id).toBe(id);
        t.expectAttempts([taken.attempt], [1], 'the first delivery');
        const inbox = t.inbox<string>();
        await t.consume(survivor, inbox);
        await within(crashing.close(), t.timeoutMs, 'closing the bus that holds the message');
        const dlq = t.bus.deadLetters<string>(topic, subscription);
        await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
        expect(inbox.of(id), 'a delivery over maxAttempts reached a handler').toHaveLength(0);
        const [letter] = await t.peek(dlq);
        expect(letter!.id).toBe(id);
        if (t.exactAttempts) {
          t.expectLetterAttempts(letter!.attempts, 1, 'attempts of the dead letter');
          expect(letter!.reason).toMatch(/^lease expired on attempt 1 of 1: /);
        } else {
          expect(letter!.attempts).toBeGreaterThanOrEqual(1);
          expect(letter!.reason).toMatch(/^lease expired on attempt \d+ of 1: /);
        }
      },
    );
  });
}
