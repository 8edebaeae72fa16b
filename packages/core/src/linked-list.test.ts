import { describe, expect, it } from 'vitest';
import { type Linked, LinkedList } from './linked-list.js';

interface Item extends Linked<Item> {
  readonly name: string;
}

const item = (name: string): Item => ({ name, previous: undefined, next: undefined });
const names = (list: LinkedList<Item>) => [...list].map((each) => each.name);

describe('LinkedList', () => {
  it('keeps insertion order through deletes at the head, the middle and the tail', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [Item, Item, Item, Item];
    const list = new LinkedList<Item>();
    for (const each of [a, b, c, d]) list.add(each);
    expect(list.delete(b)).toBe(true);
    expect(list.delete(a)).toBe(true);
    expect(list.delete(d)).toBe(true);
    expect(names(list)).toEqual(['c']);
    expect(list.size).toBe(1);
    expect(list.has(c)).toBe(true);
    expect(list.has(a)).toBe(false);
    expect(list.delete(a)).toBe(false);
  });

  it('lets a walk delete the item it is on, as the lease sweep does', () => {
    const items = ['a', 'b', 'c'].map(item);
    const list = new LinkedList<Item>();
    for (const each of items) list.add(each);
    const seen: string[] = [];
    for (const each of list) {
      seen.push(each.name);
      if (each.name !== 'b') list.delete(each);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(names(list)).toEqual(['b']);
  });
});
