// The issue-11 driver calls on the shared Redis: the DLQ cursor, redrive counts on the wire, and topology delete.
import { randomBytes } from 'node:crypto';
import { type Bus, connect, type OmnibusError } from '@omnibus/core';
import type { DriverV2, SubscriptionRef } from '@omnibus/core/driver';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redis, subscriptionKeys, topicKeys } from './index.js';
import { waitFor } from './test-support/harness.js';
import { deleteKeys, REDIS_URL, redisUnavailable } from './test-support/redis-server.js';

const unavailable = await redisUnavailable();
const suite = unavailable === undefined ? describe : describe.skip;

suite('redis: DLQ cursor and topology delete', () => {
  const admin = new Redis(REDIS_URL);
  const opened: Bus[] = [];
  const prefixes: string[] = [];

  async function open(): Promise<{ bus: Bus; driver: DriverV2; ref: SubscriptionRef }> {
    const prefix = `o${randomBytes(5).toString('hex')}-`;
    prefixes.push(prefix);
    const driver = redis({ url: REDIS_URL });
    const bus = await connect(driver, { prefix });
    opened.push(bus);
    return { bus, driver, ref: { topic: `${prefix}orders`, subscription: `${prefix}kitchen` } };
  }

  /** Sends `count` numbered messages and lets a consumer dead-letter every one of them. */
  async function deadLetter(bus: Bus, count: number, first = 0): Promise<void> {
    const consumer = bus.consumer<number>('orders', 'kitchen');
    await consumer.ready();
    const dlq = bus.deadLetters('orders', 'kitchen');
    const before = await dlq.count();
    await consumer.start(
      async (message) => void (await message.deadLetter(`refused ${message.body}`)),
    );
    await bus
      .producer<number>('orders')
      .sendBatch(Array.from({ length: count }, (_, n) => ({ body: first + n })));
    await waitFor(async () => (await dlq.count()) === before + count, `${count} more dead letters`);
    await consumer.stop();
  }

  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((bus) => bus.close()));
    for (const prefix of prefixes.splice(0)) await deleteKeys(admin, `omnibus:{${prefix}*`);
  });
  afterAll(() => {
    admin.disconnect();
  });

  it('the cursor pages oldest first, never twice, and stops at the newest letter present when it opened', async () => {
    const { bus, driver, ref } = await open();
    await deadLetter(bus, 5);
    const cursor = await driver.openDeadLetters(ref, { leaseMs: 30_000 });
    // Dead-lettered after the cursor opened: not part of this pass.
    await admin.xadd(
      subscriptionKeys('omnibus:', ref.topic, ref.subscription).deadLetters,
      '*',
      'body',
      '99',
    );
    const seen: string[] = [];
    for (let page = await cursor.next(2); page.length > 0; page = await cursor.next(2))
      seen.push(...page.map((letter) => new TextDecoder().decode(letter.body)));
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
    expect(await cursor.next(2)).toEqual([]);
    await cursor.close();
    expect(await bus.deadLetters('orders', 'kitchen').count()).toBe(6);
  });

  it('redrive moves chosen letters back with attempts from 1 and the redrive count one higher; discard deletes; the rest stay', async () => {
    const { bus, driver, ref } = await open();
    await deadLetter(bus, 4);
    const cursor = await driver.openDeadLetters(ref, { leaseMs: 30_000 });
    const letters = await cursor.next(10);
    expect(letters.map((letter) => letter.redrives)).toEqual([0, 0, 0, 0]);
    expect(letters[0]!.reason).toBe('refused 0');
    expect(await cursor.redrive([letters[0]!, letters[2]!])).toBeUndefined();
    expect(await cursor.discard([letters[1]!])).toBeUndefined();
    // Already gone: redrive reports it, entry by entry.
    const again = await cursor.redrive([letters[0]!]);
    expect(again?.failed.map((failure) => failure.index)).toEqual([0]);
    expect(again?.failed[0]?.error).toMatchObject({ code: 'NotFound' });
    const discardedAgain = await cursor.discard([letters[1]!]);
    expect(discardedAgain?.failed.map((failure) => failure.index)).toEqual([0]);
    expect(discardedAgain?.failed[0]?.error).toMatchObject({ code: 'NotFound' });
    await cursor.close();

    const left = await driver.peekDeadLetters(ref, 10);
    expect(left.map((letter) => letter.id)).toEqual([letters[3]!.id]);
    const subscription = await driver.subscribe(
      { ...ref, maxAttempts: 5, deadLetter: true, ackDeadlineMs: 30_000, ordering: false },
      { maxOutstanding: 10 },
    );
    try {
      const received = await subscription.receive({
        maxMessages: 10,
        signal: AbortSignal.timeout(10_000),
      });
      expect(received.map((message) => [message.id, message.attempt, message.redrives])).toEqual([
        [letters[0]!.id, 1, 1],
        [letters[2]!.id, 1, 1],
      ]);
      // Dead-lettered again, the letter keeps its redrive count.
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
    const fields = await admin.xrange(
      subscriptionKeys('omnibus:', ref.topic, ref.subscription).retry,
      '-',
      '+',
    );
    const redrives = fields.map(([, values]) => values[values.indexOf('omnibus-redrives') + 1]);
    expect(redrives).toEqual(['1', '1', '1', '2', '2']);
  });

  it('openDeadLetters on a subscription that does not exist is NotFound', async () => {
    const { driver, ref } = await open();
    await expect(driver.openDeadLetters(ref, { leaseMs: 30_000 })).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('deleteSubscription removes the group and every key of the subscription; deleteTopic refuses while one exists', async () => {
    const { bus, driver, ref } = await open();
    await deadLetter(bus, 2);
    const keys = subscriptionKeys('omnibus:', ref.topic, ref.subscription);
    await expect(driver.deleteTopic({ topic: ref.topic })).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringContaining(`"${ref.subscription}"`),
    });
    expect(await driver.deleteSubscription(ref)).toBe(true);
    expect(await admin.exists(keys.retry, keys.retryDelayed, keys.deadLetters)).toBe(0);
    expect(await admin.hexists(keys.subscriptions, ref.subscription)).toBe(0);
    expect(await admin.xinfo('GROUPS', keys.stream)).toEqual([]);
    expect(await driver.deleteSubscription(ref)).toBe(false);
    await expect(driver.stats(ref)).rejects.toMatchObject({ code: 'NotFound' });

    expect(await driver.deleteTopic({ topic: ref.topic })).toBe(true);
    const topic = topicKeys('omnibus:', ref.topic);
    expect(await admin.exists(topic.stream, topic.delayed, topic.subscriptions)).toBe(0);
    expect(await driver.deleteTopic({ topic: ref.topic })).toBe(false);
  });

  it('a consumer still running when its subscription is deleted does not bring it back', async () => {
    const { bus, driver, ref } = await open();
    const errors: OmnibusError[] = [];
    const consumer = bus.consumer<number>('orders', 'kitchen', {
      onError: (error) => errors.push(error),
    });
    await consumer.start(async () => undefined);
    expect(await driver.deleteSubscription(ref)).toBe(true);
    const keys = subscriptionKeys('omnibus:', ref.topic, ref.subscription);
    // The session meets NOGROUP and, finding the tombstone, stops with NotFound instead of recreating it.
    await waitFor(
      async () => errors.some((error) => error.code === 'NotFound'),
      'the consumer reports NotFound',
    );
    expect(await admin.xinfo('GROUPS', keys.stream)).toEqual([]);
    await consumer.stop().catch(() => undefined);
    // Created again, it starts like a new subscription: at the end of the stream.
    const spec = {
      ...ref,
      maxAttempts: 5,
      deadLetter: true,
      ackDeadlineMs: 30_000,
      ordering: false,
    };
    await bus.producer<number>('orders').send(1);
    await driver.ensureSubscription(spec);
    expect(await driver.stats(ref)).toMatchObject({ waiting: 0, deadLettered: 0 });
  });
});
