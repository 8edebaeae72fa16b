import { randomUUID } from 'node:crypto';
import { connect } from '@omnibus/core';
import { describe, expect, it } from 'vitest';
import type { Order } from './menu.ts';
import { runRestaurant } from './restaurant.ts';

describe('quickstart restaurant on memory://', () => {
  it('cooks every good order once, dead-letters the bad one with its reason, then redrives it', async () => {
    const lines: string[] = [];
    const report = await runRestaurant({
      url: 'memory://',
      log: (line) => lines.push(line),
      cookingTimeMs: 5,
    });

    expect(report.adapter).toBe('memory');
    const ids = report.orders.map((order) => order.id);
    // Every order (the bad one after its redrive) was cooked exactly once.
    expect(Object.keys(report.cooked).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(report.cooked[id], id).toBe(1);
    // The first orders were sent before any cook started: the waiter's declaration kept them.
    expect(report.sentBeforeCooks).toEqual(['order-1', 'order-2', 'order-3', 'order-4']);
    for (const id of report.sentBeforeCooks) expect(report.cooked[id], id).toBe(1);

    // The Sushi order failed validation: dead-lettered at once, with the schema's reason.
    const sushi = report.orders.find((order) => order.item === 'Sushi')!;
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ id: sushi.id, item: 'Sushi', attempts: 1 });
    expect(report.deadLetters[0]!.reason).toContain('Sushi is not on the menu');
    expect(report.redriven).toBe(1);
    expect(report.deadLettersAtClose).toBe(0);

    // The dropped Taco was retried, then cooked once.
    expect(report.retried).toEqual(['order-4']);

    // Both cooks took orders from the shared subscription.
    expect(new Set(Object.values(report.cookedBy))).toEqual(new Set(['Ana', 'Ben']));
    expect(report).toMatchObject({ clearedDeadLetters: 0, binned: [] });
    expect(lines.at(-1)).toBe('The restaurant is closed.');
  });

  it('needs the declaration: an order sent before any subscription exists is otherwise lost', async () => {
    const bus = await connect('memory://', { prefix: 'undeclared-' });
    try {
      await bus.producer<Order>('orders').send({ table: 1, item: 'Burger' });
      const kitchen = bus.consumer<Order>('orders', 'kitchen', { maxAttempts: 3 });
      await kitchen.ready();
      expect(await kitchen.stats()).toMatchObject({ waiting: 0 });
    } finally {
      await bus.close();
    }
  });

  it('reuses its names: clears what an interrupted service left, and leaves nothing behind', async () => {
    // A named memory broker outlives each connection in this process, as a real broker would.
    const url = `memory://quickstart-${randomUUID().slice(0, 8)}`;
    const kitchen = {
      concurrency: 1,
      maxAttempts: 3,
      retry: { initialDelayMs: 50, maxDelayMs: 200 },
    };

    // An earlier service was interrupted: one order still waiting, one dead letter.
    const earlier = await connect(url, { prefix: 'quickstart-' });
    const consumer = earlier.consumer<Order>('orders', 'kitchen', kitchen);
    await consumer.ready();
    const producer = earlier.producer<Order>('orders');
    await producer.send(
      { table: 9, item: 'Pizza' },
      { id: 'stale-1', attributes: { service: 'old' } },
    );
    await producer.send(
      { table: 9, item: 'Salad' },
      { id: 'stale-2', attributes: { service: 'old' } },
    );
    for await (const message of consumer.messages()) {
      await message.deadLetter('the service was interrupted');
      break;
    }
    await earlier.close();

    const report = await runRestaurant({ url, log: () => {}, cookingTimeMs: 5 });
    expect(report.clearedDeadLetters).toBe(1);
    expect(report.binned).toEqual(['stale-2']);
    expect(report.deadLetters.map((letter) => letter.item)).toEqual(['Sushi']);
    for (const order of report.orders) expect(report.cooked[order.id], order.id).toBe(1);

    // The run left its topic and subscription empty: nothing waiting, in flight or dead-lettered.
    const after = await connect(url, { prefix: 'quickstart-' });
    try {
      const stats = await after.consumer<Order>('orders', 'kitchen', kitchen).stats();
      expect(stats).toEqual({ waiting: 0, inFlight: 0, deadLettered: 0, approximate: [] });
    } finally {
      await after.close();
    }
  });
});
