import { describe, expect, it } from 'vitest';
import { KeyQueues } from './key-queues.js';

describe('KeyQueues', () => {
  it('runs one message per key at a time, the rest in arrival order', () => {
    const queues = new KeyQueues<string>();
    expect(queues.enter('k', 'a')).toBe(true);
    expect(queues.enter('k', 'b')).toBe(false);
    expect(queues.enter('k', 'c')).toBe(false);
    expect(queues.enter('other', 'x')).toBe(true);
    expect(queues.next('k')).toBe('b');
    expect(queues.next('k')).toBe('c');
    expect(queues.next('k')).toBeUndefined();
    expect(queues.enter('k', 'd')).toBe(true);
  });

  it('releases everything behind a message that is coming back, and frees the key', () => {
    const queues = new KeyQueues<string>();
    queues.enter('k', 'a');
    queues.enter('k', 'b');
    queues.enter('k', 'c');
    expect(queues.releaseBehind('k')).toEqual(['b', 'c']);
    expect(queues.next('k')).toBeUndefined();
    expect(queues.enter('k', 'd')).toBe(true);
  });

  it('withdraws every waiting message, never a running one', () => {
    const queues = new KeyQueues<string>();
    queues.enter('k', 'a');
    queues.enter('k', 'b');
    queues.enter('j', 'x');
    queues.enter('j', 'y');
    expect([...queues.withdrawAll()]).toEqual(['b', 'y']);
    expect(queues.enter('k', 'c')).toBe(true);
  });
});
