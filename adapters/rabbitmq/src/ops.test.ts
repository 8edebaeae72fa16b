// The issue-11 driver calls on the shared RabbitMQ: the DLQ cursor, redrive counts in a header, and topology delete.
import { type Bus, connect, type OmnibusError } from '@omnibus/core';
import type { DriverV2, SubscriptionRef, SubscriptionSpec } from '@omnibus/core/driver';
import { connect as amqpConnect } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deadLetterQueue, subscriptionDelayQueue, subscriptionQueue } from './broker-names.js';
import { rabbitmq } from './index.js';
import {
  AMQP_URL,
  deleteSharedTestObjects,
  sharedBroker,
  testPrefix,
  waitUntil,
} from './testing/broker-fixture.js';

const suite = sharedBroker === true ? describe : describe.skip;

suite('rabbitmq: DLQ cursor and topology delete', () => {
  const opened: Bus[] = [];

  async function open(): Promise<{
    bus: Bus;
    driver: DriverV2;
    ref: SubscriptionRef;
    spec: SubscriptionSpec;
  }> {
    const prefix = testPrefix();
    const driver = rabbitmq({ url: AMQP_URL });
    const bus = await connect(driver, { prefix });
    opened.push(bus);
    const ref = { topic: `${prefix}orders`, subscription: `${prefix}kitchen` };
    return {
      bus,
      driver,
      ref,
      spec: { ...ref, maxAttempts: 5, deadLetter: true, ackDeadlineMs: 30_000, ordering: false },
    };
  }

  /** Sends `count` numbered messages and lets a consumer dead-letter every one of them. */
  async function deadLetter(bus: Bus, count: number): Promise<void> {
    const consumer = bus.consumer<number>('orders', 'kitchen');
    await consumer.ready();
    const dlq = bus.deadLetters('orders', 'kitchen');
    const before = await dlq.count();
    await consumer.start(
      async (message) => void (await message.deadLetter(`refused ${message.body}`)),
    );
    await bus
      .producer<number>('orders')
      .sendBatch(Array.from({ length: count }, (_, n) => ({ body: n })));
    await waitUntil(
      async () => (await dlq.count()) === before + count,
      `${count} more dead letters`,
    );
    await consumer.stop();
  }

  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    await deleteSharedTestObjects();
  }, 120_000);

  it('the cursor holds what it handed out, pages oldest first, and gives back the unsettled ones on close', async () => {
    const { bus, driver, ref } = await open();
    await deadLetter(bus, 5);
    const cursor = await driver.openDeadLetters(ref, { leaseMs: 30_000 });
    const first = await cursor.next(2);
    expect(first.map((letter) => new TextDecoder().decode(letter.body))).toEqual(['0', '1']);
    // Held: another reader doesn't get them meanwhile.
    expect(
      (await driver.peekDeadLetters(ref, 10)).map((letter) =>
        new TextDecoder().decode(letter.body),
      ),
    ).toEqual(['2', '3', '4']);
    const rest = [...(await cursor.next(2)), ...(await cursor.next(2))];
    expect(rest.map((letter) => new TextDecoder().decode(letter.body))).toEqual(['2', '3', '4']);
    expect(await cursor.next(2)).toEqual([]);
    await cursor.close();
    await cursor.close();
    const after = await driver.peekDeadLetters(ref, 10);
    expect(after.map((letter) => new TextDecoder().decode(letter.body))).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
    expect(after[0]!.reason).toBe('refused 0');
  });

  it('redrive moves chosen letters back with attempts from 1 and the redrive count one higher; discard deletes', async () => {
    const { bus, driver, ref, spec } = await open();
    await deadLetter(bus, 4);
    const cursor = await driver.openDeadLetters(ref, { leaseMs: 30_000 });
    const letters = await cursor.next(10);
    expect(letters.map((letter) => letter.redrives)).toEqual([0, 0, 0, 0]);
    expect(await cursor.redrive([letters[0]!, letters[2]!])).toBeUndefined();
    expect(await cursor.discard([letters[1]!])).toBeUndefined();
    await cursor.close();
    expect((await driver.peekDeadLetters(ref, 10)).map((letter) => letter.id)).toEqual([
      letters[3]!.id,
    ]);

    const subscription = await driver.subscribe(spec, { maxOutstanding: 10 });
    try {
      const received: Awaited<ReturnType<typeof subscription.receive>> = [];
      while (received.length < 2)
        received.push(
          ...(await subscription.receive({ maxMessages: 10, signal: AbortSignal.timeout(10_000) })),
        );
      expect(received.map((message) => [message.id, message.attempt, message.redrives])).toEqual([
        [letters[0]!.id, 1, 1],
        [letters[2]!.id, 1, 1],
      ]);
      await subscription.deadLetter(
        received.map((message) => ({
          handle: message.handle,
          message,
          reason: 'still bad',
          attempts: 1,
        })),
      );
    } finally {
      await subscription.close();
    }
    const back = await driver.peekDeadLetters(ref, 10);
    expect(back.map((letter) => [letter.id, letter.redrives])).toEqual([
      [letters[3]!.id, 0],
      [letters[0]!.id, 1],
      [letters[2]!.id, 1],
    ]);
    // The bulk redrive bumps it as well.
    expect(await driver.redriveDeadLetters(ref, 10)).toBe(3);
    const again = await driver.subscribe(spec, { maxOutstanding: 10 });
    try {
      const received: Awaited<ReturnType<typeof again.receive>> = [];
      while (received.length < 3)
        received.push(
          ...(await again.receive({ maxMessages: 10, signal: AbortSignal.timeout(10_000) })),
        );
      expect(received.map((message) => message.redrives)).toEqual([1, 2, 2]);
      await again.ack(received.map((message) => message.handle));
    } finally {
      await again.close();
    }
  });

  it('openDeadLetters on a subscription that does not exist is NotFound', async () => {
    const { driver, ref } = await open();
    await expect(driver.openDeadLetters(ref, { leaseMs: 30_000 })).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('deleteSubscription deletes the queue, its DLQ and its delay queues; deleteTopic the exchange', async () => {
    const { bus, driver, ref } = await open();
    await deadLetter(bus, 1);
    // A nack with a delay declares a delay queue of the subscription.
    const consumer = bus.consumer<number>('orders', 'kitchen');
    let nacked = false;
    await consumer.start(async (message) => {
      nacked = true;
      message.nack({ delayMs: 60_000 });
    });
    await bus.producer<number>('orders').send(1);
    await waitUntil(() => nacked, 'the nack');
    await consumer.stop();

    expect(await driver.deleteSubscription(ref)).toBe(true);
    const amqp = await amqpConnect(AMQP_URL);
    try {
      for (const queue of [
        subscriptionQueue(ref),
        deadLetterQueue(ref),
        subscriptionDelayQueue(ref, 60_000),
      ]) {
        const channel = await amqp.createChannel();
        channel.on('error', () => undefined);
        await expect(channel.checkQueue(queue)).rejects.toThrow(/NOT_FOUND/);
      }
    } finally {
      await amqp.close();
    }
    expect(await driver.deleteSubscription(ref)).toBe(false);
    await expect(driver.stats(ref)).rejects.toMatchObject({ code: 'NotFound' });

    expect(await driver.deleteTopic({ topic: ref.topic })).toBe(true);
    expect(await driver.deleteTopic({ topic: ref.topic })).toBe(false);
  });

  it('a consumer of this driver still running when its subscription is deleted reports NotFound and does not re-declare it', async () => {
    const { bus, driver, ref } = await open();
    const errors: OmnibusError[] = [];
    const consumer = bus.consumer<number>('orders', 'kitchen', {
      onError: (error) => errors.push(error),
    });
    await consumer.start(async () => undefined);
    expect(await driver.deleteSubscription(ref)).toBe(true);
    await waitUntil(
      () => errors.some((error) => error.code === 'NotFound'),
      'the consumer reports NotFound',
    );
    await expect(driver.stats(ref)).rejects.toMatchObject({ code: 'NotFound' });
    await consumer.stop().catch(() => undefined);
  });
});
