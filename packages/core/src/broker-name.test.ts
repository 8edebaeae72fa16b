import { describe, expect, it } from 'vitest';
import { brokerName } from './broker-name.js';

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('brokerName', () => {
  it('is the readable join where it fits', () => {
    expect(brokerName(['t1_orders', 'kitchen'], 80)).toBe('t1_orders.kitchen');
    expect(brokerName(['t1-orders', 'kitchen', 'dlq'], 80, '_')).toBe('t1-orders_kitchen_dlq');
    expect(brokerName(['orders'], 80)).toBe('orders');
  });

  it('shortens with a readable head and a hash of the parts where the join is too long', () => {
    const parts = ['tenant_a_'.repeat(3) + 'orders', 'k'.repeat(64), 'dlq'];
    const name = brokerName(parts, 80, '-');
    expect(name).toHaveLength(80);
    expect(name).toMatch(/^tenant_a_tenant_a_tenant_a_orders-k+-[0-9a-f]{12}$/);
    expect(brokerName(parts, 80, '-')).toBe(name);
    // The hash covers every part, including those cut from the head.
    expect(brokerName([parts[0]!, parts[1]!, 'retry'], 80, '-')).not.toBe(name);
  });

  it('hashes when a part contains the separator, so a join can never be read two ways', () => {
    const a = brokerName(['order-events', 'kitchen'], 80, '-');
    const b = brokerName(['order', 'events-kitchen'], 80, '-');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^order-events-kitchen-[0-9a-f]{12}$/);
  });

  it('never returns a readable name that equals a hashed one', () => {
    const hashed = brokerName(['a'.repeat(90)], 80);
    const lastSegment = hashed.slice(hashed.lastIndexOf('.') + 1);
    const head = hashed.slice(0, hashed.lastIndexOf('.'));
    // Parts chosen to spell the hashed name exactly are hashed themselves.
    expect(brokerName([head, lastSegment], 80)).not.toBe(hashed);
  });

  it('property: distinct parts give distinct names, always within maxLength', () => {
    const next = random(42);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.';
    const word = () => {
      const length = Math.floor(next() * 40);
      let text = '';
      for (let index = 0; index < length; index++)
        text += alphabet[Math.floor(next() * alphabet.length)];
      return text;
    };
    for (const [maxLength, separator] of [
      [80, '-'],
      [80, '.'],
      [30, '_'],
      [255, '.'],
      [17, '-'],
    ] as const) {
      const seen = new Map<string, string>();
      for (let round = 0; round < 3_000; round++) {
        const parts = Array.from({ length: 1 + Math.floor(next() * 4) }, word);
        // Near-misses on purpose: the same parts regrouped around the separator.
        if (round % 3 === 0 && parts.length > 1)
          parts.splice(0, 2, `${parts[0]}${separator}${parts[1]}`);
        const key = JSON.stringify(parts);
        const name = brokerName(parts, maxLength, separator);
        expect(name.length).toBeLessThanOrEqual(maxLength);
        expect(brokerName(parts, maxLength, separator)).toBe(name);
        const earlier = seen.get(name);
        if (earlier !== undefined) expect(earlier, `${name} for ${key}`).toBe(key);
        seen.set(name, key);
      }
    }
  });

  it('refuses what it cannot map safely', () => {
    expect(() => brokerName([], 80)).toThrow(/non-empty array/);
    expect(() => brokerName(['a'], 16)).toThrow(/maxLength must be a whole number ≥ 17/);
    expect(() => brokerName(['a'], 80, '')).toThrow(/one character/);
    expect(() => brokerName(['a'], 80, '--')).toThrow(/one character/);
    expect(() => brokerName(['a'], 80, 'a')).toThrow(/hex digit/);
  });
});
