import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../driver.js';
import { type MessageOwner, ReceivedEnvelope } from '../message.js';
import { UnsettledMessages } from './unsettled.js';

function envelopes(count: number): ReceivedEnvelope<unknown>[] {
  const owner = {} as MessageOwner<unknown>;
  return Array.from(
    { length: count },
    (_, index) => new ReceivedEnvelope(owner, { id: `m${index}` } as ReceivedMessage, 0),
  );
}

describe('UnsettledMessages', () => {
  it('keeps arrival order through deletes at the head, the middle and the tail', () => {
    const [a, b, c, d, e] = envelopes(5) as [
      ReceivedEnvelope,
      ReceivedEnvelope,
      ReceivedEnvelope,
      ReceivedEnvelope,
      ReceivedEnvelope,
    ];
    const list = new UnsettledMessages<unknown>();
    for (const message of [a, b, c, d]) list.add(message);
    list.delete(c);
    list.delete(a);
    list.delete(d);
    list.add(e);
    expect([...list].map((message) => message.id)).toEqual(['m1', 'm4']);
    expect(list.size).toBe(2);
  });

  it('ignores a delete of a message it does not hold, or holds no more', () => {
    const [a, b] = envelopes(2) as [ReceivedEnvelope, ReceivedEnvelope];
    const list = new UnsettledMessages<unknown>();
    list.add(a);
    list.delete(b);
    list.delete(a);
    list.delete(a);
    expect(list.size).toBe(0);
    expect([...list]).toEqual([]);
    list.add(b);
    expect([...list]).toEqual([b]);
  });
});
