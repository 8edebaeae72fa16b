import { describe, expect, it } from 'vitest';
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
    expect(lines.at(-1)).toBe('The restaurant is closed.');
  });
});
