import { type Capabilities, connect, type DriverV2, OmnibusError } from '@omnibus/core';
import type { DriverSubscription } from '@omnibus/core/driver';
import { describe, expect, it } from 'vitest';
import { memory } from './index.js';

/** memory, with other capabilities and a log of the driver calls core makes. */
function spied(capabilities: Partial<Capabilities> = {}) {
  const inner = memory();
  const calls: { method: string; entries: number; argument?: unknown }[] = [];
  const wrap = (subscription: DriverSubscription): DriverSubscription => ({
    receive: (request) => subscription.receive(request),
    ack: (handles) => {
      calls.push({ method: 'ack', entries: handles.length });
      return subscription.ack(handles);
    },
    nack: (requests) => {
      calls.push({ method: 'nack', entries: requests.length, argument: requests[0] });
      return subscription.nack(requests);
    },
    release: (requests) => {
      calls.push({ method: 'release', entries: requests.length });
      return subscription.release(requests);
    },
    extendLease: (requests) => subscription.extendLease(requests),
    deadLetter: (requests) => subscription.deadLetter(requests),
    close: () => subscription.close(),
  });
  const driver: DriverV2 = {
    ...inner,
    capabilities: { ...inner.capabilities, ...capabilities },
    subscribe: async (spec, options) => wrap(await inner.subscribe(spec, options)),
    stats: (ref) => {
      calls.push({ method: 'stats', entries: 1, argument: ref });
      return inner.stats(ref);
    },
    countDeadLetters: (ref) => {
      calls.push({ method: 'countDeadLetters', entries: 1, argument: ref });
      return inner.countDeadLetters(ref);
    },
  };
  return { driver, calls };
}

describe('core on driver contract v2, over memory', () => {
  it('acks in calls of at most capabilities.batch.settle entries', async () => {
    const { driver, calls } = spied({
      batch: { publish: { maxMessages: 1_000 }, settle: { maxMessages: 3 } },
    });
    const bus = await connect(driver);
    const consumer = bus.consumer('orders', 'kitchen', { concurrency: 20 });
    await consumer.ready();
    await bus.producer('orders').sendBatch(Array.from({ length: 20 }, (_, n) => ({ body: { n } })));
    await consumer.start(() => {});
    await bus.settled();
    const acks = calls.filter((call) => call.method === 'ack');
    expect(acks.reduce((sum, call) => sum + call.entries, 0)).toBe(20);
    expect(Math.max(...acks.map((call) => call.entries))).toBeLessThanOrEqual(3);
    await bus.close();
  });

  it('retries only the acks a BatchResult lists as failed; a final failure rejects that message alone', async () => {
    const inner = memory();
    const ackCalls: number[][] = [];
    const driver: DriverV2 = {
      ...inner,
      subscribe: async (spec, options) => {
        const subscription = await inner.subscribe(spec, options);
        return {
          ...subscription,
          receive: (request) => subscription.receive(request),
          nack: (requests) => subscription.nack(requests),
          release: (requests) => subscription.release(requests),
          extendLease: (requests) => subscription.extendLease(requests),
          deadLetter: (requests) => subscription.deadLetter(requests),
          close: () => subscription.close(),
          ack: async (handles) => {
            const attempts = handles.map(
              (handle) => (handle as { entry: { body: Uint8Array } }).entry.body[5]! - 48,
            );
            ackCalls.push(attempts);
            // Body {"n":N}: byte 5 is the digit. 1 fails once (retryable), 2 always (final).
            const failed = attempts.flatMap((n, index) =>
              n === 2
                ? [
                    {
                      index,
                      error: new OmnibusError('InvalidArgument', 'receipt handle is invalid'),
                    },
                  ]
                : n === 1 && ackCalls.length === 1
                  ? [
                      {
                        index,
                        error: new OmnibusError('Unavailable', 'throttled', { retryable: true }),
                      },
                    ]
                  : [],
            );
            const landed = handles.filter(
              (_, index) => !failed.some((entry) => entry.index === index),
            );
            await subscription.ack(landed);
            return failed.length === 0 ? undefined : { failed };
          },
        };
      },
    };
    const bus = await connect(driver);
    const consumer = bus.consumer<{ n: number }>('orders', 'kitchen', { concurrency: 5 });
    await consumer.ready();
    await bus.producer('orders').sendBatch([0, 1, 2, 3].map((n) => ({ body: { n } })));
    const iterator = consumer.messages();
    const messages = [];
    for (let index = 0; index < 4; index++) messages.push((await iterator.next()).value!);
    const outcomes = await Promise.allSettled(messages.map((message) => message.ack()));
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
      code: 'InvalidArgument',
    });
    expect(ackCalls).toEqual([[0, 1, 2, 3], [1]]);
    await iterator.return?.();
    await bus.close();
  });

  it('hands untaken messages back through release(), never nack(), on stop', async () => {
    const { driver, calls } = spied();
    const bus = await connect(driver);
    const consumer = bus.consumer<{ n: number }>('orders', 'kitchen', { concurrency: 5 });
    await consumer.ready();
    await bus.producer('orders').sendBatch(Array.from({ length: 5 }, (_, n) => ({ body: { n } })));
    const iterator = consumer.messages();
    const { value: first } = await iterator.next();
    await first!.ack();
    await iterator.return?.();
    await consumer.stop();
    expect(calls.filter((call) => call.method === 'nack')).toEqual([]);
    expect(
      calls
        .filter((call) => call.method === 'release')
        .reduce((sum, call) => sum + call.entries, 0),
    ).toBe(4);
    // Released messages kept their attempt: the next delivery of each is attempt 1.
    const attempts: number[] = [];
    await bus.consumer('orders', 'kitchen', { concurrency: 5 }).start((message) => {
      attempts.push(message.attempt);
    });
    await bus.settled();
    expect(attempts).toEqual([1, 1, 1, 1]);
    await bus.close();
  });

  it('passes stats and DLQ admin a SubscriptionRef: the two names, nothing faked', async () => {
    const { driver, calls } = spied();
    const bus = await connect(driver, { prefix: 't1_' });
    const consumer = bus.consumer('orders', 'kitchen');
    await consumer.ready();
    await consumer.stats();
    await bus.deadLetters('orders', 'kitchen').count();
    const refs = calls.filter((call) => call.method !== 'ack').map((call) => call.argument);
    expect(refs).toEqual([
      { topic: 't1_orders', subscription: 't1_kitchen' },
      { topic: 't1_orders', subscription: 't1_kitchen' },
    ]);
    await bus.close();
  });

  it('bounds nack delays by capabilities.nackDelayMaxMs', async () => {
    const { driver } = spied({ nackDelayMaxMs: 1_000 });
    const bus = await connect(driver);
    const consumer = bus.consumer('orders', 'kitchen');
    await consumer.ready();
    await bus.producer('orders').send({ n: 1 });
    const iterator = consumer.messages();
    const { value: message } = await iterator.next();
    await expect(message!.nack({ delayMs: 1_001 })).rejects.toThrow(/from 0 to 1000/);
    await expect(message!.nack({ delayMs: 1_000 })).resolves.toBe('nacked');
    await iterator.return?.();
    await bus.close();
  });

  it('ordering: true without the capability is Unsupported before any I/O; ordering: false runs keys concurrently', async () => {
    const { driver } = spied({ ordering: false });
    const bus = await connect(driver);
    expect(() => bus.consumer('orders', 'kitchen', { ordering: true })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }) as unknown as Error,
    );
    expect(() => bus.consumer('orders', 'kitchen', { ordering: 'yes' as never })).toThrow(
      /ordering must be a boolean/,
    );
    await bus.close();

    const ordered = await connect(memory());
    const consumer = ordered.consumer<{ n: number }>('orders', 'kitchen', {
      ordering: false,
      concurrency: 5,
    });
    await consumer.ready();
    await ordered
      .producer('orders')
      .sendBatch([0, 1, 2].map((n) => ({ body: { n }, orderingKey: 'table-1' })));
    let running = 0;
    let most = 0;
    await consumer.start(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    });
    await ordered.settled();
    // The subscription was created without ordering: memory doesn't hold keys back either.
    expect(most).toBeGreaterThan(1);
    await ordered.close();
  });

  it('peek is Unsupported where deadLetterAdmin.peek is "none"', async () => {
    const { driver } = spied({
      deadLetterAdmin: { peek: 'none', count: 'exact', redrive: 'subscription' },
    });
    const bus = await connect(driver);
    await bus.consumer('orders', 'kitchen').ready();
    await expect(bus.deadLetters('orders', 'kitchen').peek()).rejects.toMatchObject({
      code: 'Unsupported',
    });
    expect(await bus.deadLetters('orders', 'kitchen').count()).toBe(0);
    await bus.close();
  });

  it('settled() is Unsupported for a driver without testHooks', async () => {
    const { driver } = spied();
    const bus = await connect({ ...driver, testHooks: undefined });
    const error = await bus.settled().catch((caught: unknown) => caught as OmnibusError);
    expect(error).toMatchObject({ code: 'Unsupported' });
    await bus.close();
  });
});
