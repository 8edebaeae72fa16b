import type { ConsumerOptions } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, range, type Suite, sendAll, type TestKit, within } from './helpers.js';

interface Order {
  item: string;
  quantity: number;
}

/**
 * A minimal Standard Schema (v1) so the suite needs no validation library: `quantity` must be a
 * positive number; the output adds `validated: true` so a test can tell input from output.
 */
const orderSchema: NonNullable<ConsumerOptions<Order & { validated: true }>['schema']> = {
  '~standard': {
    version: 1,
    vendor: 'omnibus-conformance',
    validate(value) {
      const candidate = value as Partial<Order> | null;
      if (
        typeof candidate !== 'object' ||
        candidate === null ||
        typeof candidate.item !== 'string'
      ) {
        return { issues: [{ message: 'item must be a string', path: ['item'] }] };
      }
      if (typeof candidate.quantity !== 'number' || candidate.quantity <= 0) {
        return { issues: [{ message: 'quantity must be a positive number', path: ['quantity'] }] };
      }
      return { value: { item: candidate.item, quantity: candidate.quantity, validated: true } };
    },
  },
};

/** The same rules, answered asynchronously (Standard Schema allows a promise). */
const asyncOrderSchema: NonNullable<ConsumerOptions<Order & { validated: true }>['schema']> = {
  '~standard': {
    version: 1,
    vendor: 'omnibus-conformance',
    validate: async (value) => orderSchema['~standard'].validate(value),
  },
};

/** Whether the adapter can redrive at all (`deadLetterAdmin.redrive` other than `none`). */
function redriveDeclared(t: TestKit): boolean {
  return (t.capabilities.deadLetterAdmin.redrive as string) !== 'none';
}

function requiresRedrive(t: TestKit): void {
  t.requires(redriveDeclared(t), 'deadLetterAdmin.redrive');
}

/**
 * Dead-letter queues: when messages land there, what they carry, redrive and purge. Peek, count
 * and redrive are held to `capabilities.deadLetterAdmin` (`TestKit.peek`, `expectDeadLetterCount`).
 */
export function registerDeadLetterTests(suite: Suite): void {
  describe('dead-letter', () => {
    suite.test(
      'dead-letters after exactly maxAttempts, with the handler error as reason',
      async (t) => {
        const topic = t.name('topic');
        const maxAttempts = 3;
        const consumer = t.bus.consumer<{ n: number }>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts }),
        );
        await consumer.ready();
        const failure = `kitchen-on-fire-${t.prefix}`;
        const before = Date.now();
        const id = await t.bus
          .producer<{ n: number }>(topic)
          .send({ n: 1 }, { attributes: { source: 'test' } });
        const inbox = t.inbox<{ n: number }>();
        await t.consume(consumer, inbox, () => {
          throw new Error(failure);
        });
        const dlq = t.bus.deadLetters<{ n: number }>(topic, consumer.subscription);
        await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
        t.expectAttempts(
          inbox.deliveries.map((delivery) => delivery.attempt),
          t.exactAttempts ? [1, 2, 3] : inbox.deliveries.map((_, index) => index + 1),
          'attempts of the failing message',
        );
        expect(new Set(inbox.ids())).toEqual(new Set([id]));
        // Dead-lettered means gone from the subscription: a sentinel arrives, the message does not again.
        const sentinel = await t.bus.producer<{ n: number }>(topic).send({ n: 2 });
        await inbox.waitForIds([sentinel]);
        if (t.exactAttempts) expect(inbox.of(id)).toHaveLength(maxAttempts);
        const [letter] = await t.peek(dlq, 10);
        expect(letter!.id).toBe(id);
        expect(letter!.body).toEqual({ n: 1 });
        expect(letter!.attributes).toEqual({ source: 'test' });
        t.expectLetterAttempts(letter!.attempts, maxAttempts, 'attempts of the dead letter');
        if (t.exactAttempts)
          expect(letter!.reason).toBe(`handler failed on attempt 3 of 3: Error: ${failure}`);
        else
          expect(letter!.reason).toMatch(/^(handler failed|lease expired) on attempt \d+ of 3: /);
        expect(letter!.deadLetteredAt).toBeInstanceOf(Date);
        expect(letter!.deadLetteredAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
        expect(letter!.publishedAt).toBeInstanceOf(Date);
        expect(letter!.publishedAt.getTime()).toBe(inbox.deliveries[0]!.publishedAt.getTime());
      },
    );

    suite.test('msg.deadLetter(reason) moves the message at once', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<string>(
        topic,
        t.name('sub'),
        consumerOptions({ maxAttempts: 5 }),
      );
      await consumer.ready();
      const id = await t.bus.producer<string>(topic).send('unprocessable');
      const reason = `refused by the test ${t.prefix}`;
      const outcomes: string[] = [];
      const inbox = t.inbox<string>();
      await t.consume(consumer, inbox, async (message) => {
        outcomes.push(await message.deadLetter(reason));
      });
      const dlq = t.bus.deadLetters<string>(topic, consumer.subscription);
      // The DLQ may show the copy a moment before the broker confirms it to deadLetter().
      await t.waitFor(() => outcomes.length === 1, 'deadLetter() to resolve');
      await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
      expect(outcomes).toEqual(['dead-lettered']);
      expect(inbox.of(id)).toHaveLength(1);
      const [letter] = await t.peek(dlq);
      expect(letter!.id).toBe(id);
      expect(letter!.body).toBe('unprocessable');
      if (t.exactAttempts)
        t.expectLetterAttempts(letter!.attempts, 1, 'attempts of the dead letter');
      else expect(letter!.attempts).toBeGreaterThanOrEqual(1);
      expect(letter!.reason).toBe(reason);
    });

    suite.test(
      'a message failing schema validation is dead-lettered at once, without using attempts',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts: 5, schema: orderSchema }),
        );
        await consumer.ready();
        const producer = t.bus.producer<unknown>(topic);
        const invalid = await producer.send({ item: 'burger', quantity: -1 });
        const valid = await producer.send({ item: 'fries', quantity: 2 });
        const inbox = t.inbox<Order & { validated: true }>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds([valid]);
        const dlq = t.bus.deadLetters(topic, consumer.subscription);
        await t.waitFor(async () => (await dlq.count()) === 1, 'the invalid message in the DLQ');
        expect(inbox.of(invalid), 'the handler must never see an invalid message').toHaveLength(0);
        const [letter] = await t.peek(dlq);
        expect(letter!.id).toBe(invalid);
        if (t.exactAttempts)
          t.expectLetterAttempts(letter!.attempts, 1, 'attempts of the dead letter');
        else expect(letter!.attempts).toBeGreaterThanOrEqual(1);
        expect(letter!.reason).toContain('quantity must be a positive number');
      },
    );

    suite.test(
      'an asynchronous schema is awaited: failures go to the DLQ, successes to the handler',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer(
          topic,
          t.name('sub'),
          consumerOptions({ schema: asyncOrderSchema }),
        );
        await consumer.ready();
        const producer = t.bus.producer<unknown>(topic);
        const invalid = await producer.send({ item: 42, quantity: 1 });
        const valid = await producer.send({ item: 'cola', quantity: 3 });
        const inbox = t.inbox<Order & { validated: true }>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds([valid]);
        expect(inbox.of(valid)[0]!.body).toEqual({ item: 'cola', quantity: 3, validated: true });
        const dlq = t.bus.deadLetters(topic, consumer.subscription);
        await t.waitFor(async () => (await dlq.count()) === 1, 'the invalid message in the DLQ');
        expect(inbox.of(invalid)).toHaveLength(0);
        const [letter] = await t.peek(dlq);
        expect(letter!.id).toBe(invalid);
        expect(letter!.reason).toContain('item must be a string');
      },
    );

    suite.test("the handler receives the schema's output, not its input", async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer(
        topic,
        t.name('sub'),
        consumerOptions({ schema: orderSchema }),
      );
      await consumer.ready();
      const id = await t.bus
        .producer<unknown>(topic)
        .send({ item: 'shake', quantity: 1, extra: 'dropped' });
      const inbox = t.inbox<Order & { validated: true }>();
      await t.consume(consumer, inbox);
      await inbox.waitForIds([id]);
      expect(inbox.of(id)[0]!.body).toEqual({ item: 'shake', quantity: 1, validated: true });
    });

    suite.test(
      'redrive returns dead letters with the same id and attempt 1, and empties the DLQ',
      async (t) => {
        requiresRedrive(t);
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const id = await t.bus
          .producer<string>(topic)
          .send('second chance', { attributes: { keep: 'me' } });
        const dlq = t.bus.deadLetters<string>(topic, consumer.subscription);
        const inbox = t.inbox<string>();
        let redriven = false;
        await t.consume(consumer, inbox, async (message) => {
          if (!redriven) await message.deadLetter('first time round');
        });
        await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
        redriven = true;
        expect(await dlq.redrive({ limit: 10 })).toBe(1);
        await inbox.waitForCount(2, 'the redriven message');
        const again = inbox.deliveries[1]!;
        expect(again.id).toBe(id);
        t.expectAttempts([again.attempt], [1], 'the first delivery after redrive');
        expect(again.body).toBe('second chance');
        expect(again.attributes).toEqual({ keep: 'me' });
        await t.expectDeadLetterCount(dlq, 0, 'the DLQ after redrive');
        expect(await t.peek(dlq)).toEqual([]);
      },
    );

    /**
     * A redrive that kept taking from the DLQ until it was empty would chase this consumer, which
     * dead-letters every message again as soon as it arrives, and never end.
     */
    suite.test(
      'redrive moves only the dead letters present when it starts (repeated, returns 1 each time)',
      async (t) => {
        requiresRedrive(t);
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const id = await t.bus.producer<string>(topic).send('boomerang');
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox, async (message) => {
          await message.deadLetter('always refused');
        });
        const dlq = t.bus.deadLetters<string>(topic, consumer.subscription);
        for (let round = 1; round <= 4; round++) {
          await inbox.waitForCount(round, `delivery ${round}`);
          await t.waitFor(async () => (await dlq.count()) === 1, `dead letter ${round}`);
          expect(await within(dlq.redrive(), t.timeoutMs, `redrive ${round}`)).toBe(1);
        }
        await inbox.waitForCount(5, 'the last redriven delivery');
        expect(new Set(inbox.ids())).toEqual(new Set([id]));
      },
    );

    suite.test('redrive({ limit }) moves at most limit, oldest first', async (t) => {
      requiresRedrive(t);
      const topic = t.name('topic');
      const consumer = t.bus.consumer<number>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 1 }),
      );
      await consumer.ready();
      const ids = await sendAll(t.bus.producer<number>(topic), [0, 1, 2]);
      const iterator = consumer.messages();
      for (const _ of range(3)) await (await iterator.next()).value!.deadLetter('parked');
      const dlq = t.bus.deadLetters<number>(topic, consumer.subscription);
      await t.waitFor(async () => (await dlq.count()) === 3, 'three dead letters');
      expect(await dlq.redrive({ limit: 2 })).toBe(2);
      await t.expectDeadLetterCount(dlq, 1, 'the DLQ after redriving 2 of 3');
      const back = [];
      for (const _ of range(2)) {
        const message = (await iterator.next()).value!;
        back.push(message);
        t.expectAttempts([message.attempt], [1], 'a redriven message');
        await message.ack();
      }
      expect(back.map((message) => message.id).sort()).toEqual([ids[0]!, ids[1]!].sort());
      expect((await t.peek(dlq)).map((letter) => letter.id)).toEqual([ids[2]]);
      await iterator.return?.();
    });

    suite.test('redrive returns messages to their own subscription only', async (t) => {
      t.requires(t.capabilities.fanout, 'fanout');
      t.requires(
        t.capabilities.deadLetterAdmin.redrive === 'subscription',
        "deadLetterAdmin.redrive 'subscription'",
      );
      const { id, producer, failingInbox, otherInbox } = await redriveOneOfTwo(t);
      await failingInbox.waitForCount(2, 'the redriven message');
      const sentinel = await producer.send('after redrive');
      await otherInbox.waitForIds([sentinel]);
      expect(otherInbox.of(id), 'redrive must not publish to the whole topic').toHaveLength(1);
    });

    suite.test(
      "where deadLetterAdmin.redrive is 'topic', a redrive reaches every subscription of the topic",
      async (t) => {
        t.requires(t.capabilities.fanout, 'fanout');
        t.requires(
          t.capabilities.deadLetterAdmin.redrive === 'topic',
          "deadLetterAdmin.redrive 'topic'",
        );
        const { id, failingInbox, otherInbox } = await redriveOneOfTwo(t);
        await failingInbox.waitForCount(2, 'the redriven message on its own subscription');
        await otherInbox.waitForCount(2, 'the redriven message on the other subscription too');
        expect(new Set([...failingInbox.ids(), ...otherInbox.ids()])).toEqual(new Set([id]));
      },
    );

    suite.test(
      'with capabilities.nativeDeadLetter, a message that always fails is dead-lettered by core (its reason), exactly once',
      async (t) => {
        const native = t.capabilities.nativeDeadLetter;
        t.requires(native !== false, 'nativeDeadLetter');
        if (native === false) return;
        // Inside the broker's bounds (Pub/Sub takes 5–100): the backstop sits above, core fires first.
        const maxAttempts = Math.min(native.maxAttempts, Math.max(native.minAttempts, 3));
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts }),
        );
        await consumer.ready();
        const producer = t.bus.producer<string>(topic);
        const id = await producer.send('always fails');
        const failure = `native-backstop-${t.prefix}`;
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox, (message) => {
          if (message.id === id) throw new Error(failure);
        });
        const dlq = t.bus.deadLetters<string>(topic, consumer.subscription);
        await t.waitFor(async () => (await dlq.count()) >= 1, 'the message in the DLQ');
        const sentinel = await producer.send('sentinel');
        await inbox.waitForIds([sentinel]);
        await t.expectDeadLetterCount(dlq, 1, 'dead letters of the message (exactly once)');
        t.expectAttempts(
          inbox.of(id).map((delivery) => delivery.attempt),
          t.exactAttempts
            ? range(maxAttempts).map((n) => n + 1)
            : inbox.of(id).map((_, n) => n + 1),
          'attempts before core dead-lettered',
        );
        const letters = await t.peek(dlq, 10);
        expect(letters.map((letter) => letter.id)).toEqual([id]);
        const [letter] = letters;
        expect(letter!.reason, "core's reason, never the broker's").toMatch(
          new RegExp(`^(handler failed|lease expired) on attempt \\d+ of ${maxAttempts}: `),
        );
        if (t.exactAttempts) {
          expect(letter!.reason).toBe(
            `handler failed on attempt ${maxAttempts} of ${maxAttempts}: Error: ${failure}`,
          );
        }
        t.expectLetterAttempts(
          letter!.attempts,
          inbox.of(id).length,
          'attempts of the dead letter',
        );
      },
    );

    suite.test('peek(limit) shows the oldest dead letters without removing them', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<number>(
        topic,
        t.name('sub'),
        consumerOptions({ concurrency: 1 }),
      );
      await consumer.ready();
      const ids = await sendAll(t.bus.producer<number>(topic), [0, 1, 2]);
      const iterator = consumer.messages();
      // Dead-letter in send order, one at a time, so "oldest first" has one right answer.
      for (const expected of ids) {
        const message = (await iterator.next()).value!;
        expect(message.id).toBe(expected);
        await message.deadLetter(`reason-${message.body}`);
      }
      await iterator.return?.();
      const dlq = t.bus.deadLetters<number>(topic, consumer.subscription);
      await t.waitFor(async () => (await dlq.count()) === 3, 'three dead letters');
      const firstTwo = await t.peek(dlq, 2);
      expect(firstTwo.map((letter) => letter.id)).toEqual(ids.slice(0, 2));
      expect(firstTwo.map((letter) => letter.reason)).toEqual(['reason-0', 'reason-1']);
      expect((await t.peek(dlq, 10)).map((letter) => letter.id)).toEqual(ids);
      await t.expectDeadLetterCount(dlq, 3, 'the DLQ after peeking');
    });

    suite.test('purge deletes every dead letter', async (t) => {
      const topic = t.name('topic');
      const consumer = t.bus.consumer<number>(topic, t.name('sub'), consumerOptions());
      await consumer.ready();
      await sendAll(t.bus.producer<number>(topic), [0, 1, 2]);
      await t.consume(consumer, t.inbox<number>(), (message) => message.deadLetter('to purge'));
      const dlq = t.bus.deadLetters<number>(topic, consumer.subscription);
      await t.waitFor(async () => (await dlq.count()) === 3, 'three dead letters');
      const purged = await dlq.purge();
      if (purged !== undefined) expect(purged).toBe(3);
      await t.expectDeadLetterCount(dlq, 0, 'the DLQ after purge');
      if (redriveDeclared(t)) expect(await dlq.redrive()).toBe(0);
      expect(await t.peek(dlq, 10)).toEqual([]);
    });

    suite.test(
      'deadLetter: false retries past maxAttempts instead of dead-lettering',
      async (t) => {
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(
          topic,
          t.name('sub'),
          consumerOptions({ maxAttempts: 2, deadLetter: false }),
        );
        await consumer.ready();
        const id = await t.bus.producer<string>(topic).send('stubborn');
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox, (message) => {
          if (inbox.of(message.id).length < 4) throw new Error('not yet');
        });
        await inbox.waitForCount(4, 'a fourth attempt, past maxAttempts 2');
        t.expectAttempts(
          inbox.of(id).map((delivery) => delivery.attempt),
          [1, 2, 3, 4],
          'attempts past maxAttempts',
        );
      },
    );
  });
}

/**
 * Two subscriptions of one topic; one message, which the first dead-letters once and the second
 * handles; then one redrive of the first's DLQ (checked to move exactly that message).
 */
async function redriveOneOfTwo(t: TestKit) {
  const topic = t.name('topic');
  const failing = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
  const other = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
  await Promise.all([failing.ready(), other.ready()]);
  const producer = t.bus.producer<string>(topic);
  const id = await producer.send('parked once');
  const failingInbox = t.inbox<string>();
  const otherInbox = t.inbox<string>();
  let redriven = false;
  await t.consume(failing, failingInbox, async (message) => {
    if (!redriven) await message.deadLetter('parked');
  });
  await t.consume(other, otherInbox);
  const dlq = t.bus.deadLetters<string>(topic, failing.subscription);
  await t.waitFor(async () => (await dlq.count()) === 1, 'the message in the DLQ');
  await otherInbox.waitForIds([id]);
  redriven = true;
  expect(await dlq.redrive()).toBe(1);
  return { id, producer, failingInbox, otherInbox };
}
