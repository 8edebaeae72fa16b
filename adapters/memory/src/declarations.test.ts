import { connect, type OmnibusError } from '@omnibus/core';
import { describe, expect, it } from 'vitest';
import { memory } from './index.js';

async function failure(promise: Promise<unknown>): Promise<OmnibusError> {
  try {
    await promise;
  } catch (error) {
    return error as OmnibusError;
  }
  throw new Error('expected a rejection');
}

describe('producer-declared subscriptions', () => {
  it('keeps what a declaring producer sends before any consumer ran; an undeclared subscription gets nothing', async () => {
    const bus = await connect(memory());
    const producer = bus.producer<{ n: number }>('orders', {
      subscriptions: { kitchen: { maxAttempts: 3 }, audit: {} },
    });
    await producer.send({ n: 1 });
    await producer.sendBatch([{ body: { n: 2 } }, { body: { n: 3 } }]);
    const late = bus.consumer('orders', 'billing');
    await late.ready();

    for (const subscription of ['kitchen', 'audit']) {
      const seen: number[] = [];
      const consumer = bus.consumer<{ n: number }>('orders', subscription, {
        maxAttempts: subscription === 'kitchen' ? 3 : undefined,
      });
      await consumer.start((message) => {
        seen.push(message.body.n);
      });
      await bus.settled();
      await consumer.stop();
      expect(seen.sort(), subscription).toEqual([1, 2, 3]);
    }
    expect((await late.stats()).waiting).toBe(0);
    await bus.close();
  });

  it('bus.declare() creates the topic, the subscriptions and their DLQs without sending', async () => {
    const bus = await connect(memory());
    await bus.declare('orders', { kitchen: { maxAttempts: 2 }, archive: { deadLetter: false } });
    await bus.producer('orders').send({ n: 1 });
    expect((await bus.consumer('orders', 'kitchen', { maxAttempts: 2 }).stats()).waiting).toBe(1);
    expect((await bus.consumer('orders', 'archive', { deadLetter: false }).stats()).waiting).toBe(
      1,
    );
    expect(await bus.deadLetters('orders', 'kitchen').count()).toBe(0);
    await bus.close();
  });

  it('a consumer disagreeing with a declaration gets AlreadyExists naming the setting, either way round', async () => {
    const bus = await connect(memory());
    await bus.declare('orders', { kitchen: { maxAttempts: 3 } });
    const consumer = failure(bus.consumer('orders', 'kitchen', { maxAttempts: 5 }).ready());
    expect(await consumer).toMatchObject({ code: 'AlreadyExists' });
    expect((await consumer).message).toMatch(
      /already exists \(declared\) with maxAttempts 3; this consumer asks 5/,
    );

    await bus.consumer('orders', 'audit', { deadLetter: false }).ready();
    const declared = await failure(bus.declare('orders', { audit: {} }));
    expect(declared).toMatchObject({ code: 'AlreadyExists' });
    expect(declared.message).toMatch(/deadLetter false; this declaration asks true/);

    // A producer's declaration surfaces on its first send, which sends nothing.
    const producer = bus.producer('orders', { subscriptions: { kitchen: { maxAttempts: 4 } } });
    expect(await failure(producer.send({ n: 1 }))).toMatchObject({ code: 'AlreadyExists' });
    expect((await bus.consumer('orders', 'kitchen', { maxAttempts: 3 }).stats()).waiting).toBe(0);

    // Agreeing settings (the defaults on both sides) are fine.
    await bus.declare('orders', { billing: {} });
    await bus.consumer('orders', 'billing').ready();
    await bus.close();
  });

  it('two declarations that disagree, on buses of one named broker, get AlreadyExists from the broker', async () => {
    const a = await connect('memory://declarations-shared');
    const b = await connect('memory://declarations-shared');
    await a.declare('orders', { kitchen: { maxAttempts: 3 } });
    const error = await failure(b.declare('orders', { kitchen: { maxAttempts: 7 } }));
    expect(error).toMatchObject({ code: 'AlreadyExists' });
    expect(error.message).toMatch(/maxAttempts 3; asked for 7/);
    await Promise.all([a.close(), b.close()]);
  });

  it('checks declarations before any I/O', async () => {
    const bus = await connect(memory());
    expect(() => bus.producer('orders', { subscriptions: { ki: {} } })).toThrow(
      /subscription name/,
    );
    expect(() =>
      bus.producer('orders', { subscriptions: { kitchen: { maxAttempts: 0 } } }),
    ).toThrow(/maxAttempts must be a whole number from 1 to 1000/);
    expect(() => bus.producer('orders', { subscriptions: { kitchen: null as never } })).toThrow(
      /must be an object/,
    );
    expect(await failure(bus.declare('orders', [] as never))).toMatchObject({
      code: 'InvalidArgument',
    });
    await bus.close();
  });
});
