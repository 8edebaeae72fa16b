/** Tests for the portable rules: names, prefixes, attributes, ids, ordering keys and size. */
import { describe, expect, it } from 'vitest';
import { OmnibusError } from './errors.js';
import {
  checkAttributes,
  checkName,
  checkPrefix,
  checkSize,
  checkToken,
  PORTABLE_RULES,
} from './rules.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return OmnibusError.isInstance(error) ? error.code : 'not an OmnibusError';
  }
  return undefined;
}

describe('portable names', () => {
  it.each(['abc', 'orders', 'Orders_2026-eu', 'a'.repeat(64)])('accepts %s', (name) => {
    expect(codeOf(() => checkName(name, 'topic'))).toBeUndefined();
  });
  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(65)],
    ['digit first', '1orders'],
    ['dot (SQS)', 'orders.eu'],
    ['space', 'my orders'],
    ['goog prefix (Pub/Sub)', 'google-orders'],
    ['unicode', 'bestellungen-ü'],
  ])('rejects a name with %s', (_why, name) => {
    expect(codeOf(() => checkName(name, 'subscription'))).toBe('InvalidArgument');
  });
  it.each([
    ['ab', 'topic name "ab" is 2 characters long; the portable rule: 3–64 characters'],
    ['1orders', 'topic name "1orders" starts with "1" (U+0031), not a letter'],
    ['orders.eu', 'topic name "orders.eu" contains "." (U+002E) at index 6, which is not allowed'],
    ['bestellungen-ü', 'contains "ü" (U+00FC) at index 13, which is not allowed'],
    ['ord\u0000ers', 'contains the control character U+0000 at index 3, which is not allowed'],
    [
      'ord\ud800ers',
      'contains a lone UTF-16 surrogate (U+D800) at index 3, which is not valid Unicode',
    ],
  ])('says how the name %j breaks the rule', (name, message) => {
    expect(() => checkName(name, 'topic')).toThrow(message);
  });
  it('rejects a name that is not a string, naming the kind', () => {
    expect(() => checkName(42, 'topic')).toThrow(/topic name must be a string/);
  });
  it('accepts an empty prefix and rejects a long or odd one', () => {
    expect(codeOf(() => checkPrefix(''))).toBeUndefined();
    expect(codeOf(() => checkPrefix('t1-'))).toBeUndefined();
    expect(codeOf(() => checkPrefix('x'.repeat(33)))).toBe('InvalidArgument');
    expect(codeOf(() => checkPrefix('-t'))).toBe('InvalidArgument');
  });
});

describe('portable attributes', () => {
  it('counts names and values in bytes', () => {
    expect(checkAttributes({ source: 'web', 'n-o': 'x' })).toBe(6 + 3 + 3 + 1);
  });
  it('counts UTF-8 bytes of values', () => {
    expect(checkAttributes({ k: 'ü' })).toBe(1 + 2);
  });
  it(`allows ${PORTABLE_RULES.maxAttributes} attributes and rejects one more`, () => {
    const many = Object.fromEntries(
      Array.from({ length: PORTABLE_RULES.maxAttributes }, (_, i) => [`k${i}`, 'v']),
    );
    expect(codeOf(() => checkAttributes(many))).toBeUndefined();
    expect(() => checkAttributes({ ...many, extra: 'v' })).toThrow(/at most 8 attributes/);
  });
  it.each([
    ['reserved omnibus prefix', { 'omnibus-id': 'x' }],
    ['reserved x- prefix (AMQP)', { 'x-delay': '1' }],
    ['reserved AWS prefix', { 'AWS.trace': '1' }],
    [
      'reserved trace context name',
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    ],
    ['double dot', { 'a..b': '1' }],
    ['leading dot', { '.a': '1' }],
    ['trailing dot', { 'a.': '1' }],
    ['empty value (SQS)', { a: '' }],
    ['non-string value', { a: 1 }],
    ['control character', { a: 'x\u0001' }],
    ['value over 1024 bytes', { a: 'x'.repeat(1025) }],
  ])('rejects %s', (_why, attributes) => {
    expect(codeOf(() => checkAttributes(attributes))).toBe('InvalidArgument');
  });
  it.each([
    [
      'a lone high surrogate in a value',
      { note: 'ab\ud800c' },
      'attribute "note" value contains a lone UTF-16 surrogate (U+D800) at index 2, which is not valid Unicode',
    ],
    [
      'a lone low surrogate at the end of a value',
      { note: 'ab\udfff' },
      'attribute "note" value contains a lone UTF-16 surrogate (U+DFFF) at index 2, which is not valid Unicode',
    ],
    [
      'a NUL in a value',
      { note: 'a\u0000' },
      'attribute "note" value contains the control character U+0000 at index 1, which SQS rejects (of the controls only tab, line feed and carriage return are allowed)',
    ],
    [
      'a bell after an emoji in a value',
      { note: '😀\u0007' },
      'attribute "note" value contains the control character U+0007 at index 2, which SQS rejects (of the controls only tab, line feed and carriage return are allowed)',
    ],
    [
      'a noncharacter in a value',
      { note: 'x\uffff' },
      'attribute "note" value contains the noncharacter U+FFFF at index 1, which SQS rejects',
    ],
    ['an empty value', { note: '' }, 'attribute "note" value is empty, which SQS rejects'],
    [
      'a value over 1024 bytes',
      { note: 'é'.repeat(513) },
      'attribute "note" value is 1026 bytes of UTF-8; the limit is 1024 (Pub/Sub)',
    ],
    ['a null value', { note: null }, 'attribute "note" must be a string, got null'],
    [
      'a lone surrogate in a name',
      { 'a\ud83d': 'v' },
      'attribute name "a\\ud83d" contains a lone UTF-16 surrogate (U+D83D) at index 1, which is not valid Unicode',
    ],
    [
      'an emoji in a name',
      { 'a😀': 'v' },
      'attribute name "a😀" contains "😀" (U+1F600) at index 1, which is not allowed',
    ],
    [
      'a control character in a name',
      { 'a\u0001b': 'v' },
      'attribute name "a\\u0001b" contains the control character U+0001 at index 1, which is not allowed',
    ],
    [
      'a space in a name',
      { 'my key': 'v' },
      'attribute name "my key" contains " " (U+0020) at index 2',
    ],
    ['an empty name', { '': 'v' }, 'attribute name "" is empty'],
    ['a leading dot', { '.a': 'v' }, 'attribute name ".a" starts with "."'],
    ['a trailing dot', { 'a.': 'v' }, 'attribute name "a." ends with "."'],
    ['a double dot', { 'a..b': 'v' }, 'attribute name "a..b" contains ".."'],
    ['a long name', { ['n'.repeat(129)]: 'v' }, 'is 129 characters long'],
  ])('names the fault precisely: %s', (_why, attributes, message) => {
    expect(() => checkAttributes(attributes)).toThrow(message);
    expect(codeOf(() => checkAttributes(attributes))).toBe('InvalidArgument');
  });
  it('accepts tab, line feed, carriage return, DEL and valid surrogate pairs in values', () => {
    expect(codeOf(() => checkAttributes({ note: 'a\tb\nc\rd\u007fe😀' }))).toBeUndefined();
  });
  it('rejects a non-object', () => {
    expect(codeOf(() => checkAttributes(['a']))).toBe('InvalidArgument');
    expect(codeOf(() => checkAttributes('a=b'))).toBe('InvalidArgument');
  });
});

describe('ids, ordering keys and size', () => {
  it('accepts printable ASCII up to 128 characters', () => {
    expect(codeOf(() => checkToken('customer-42/eu#1', 'orderingKey'))).toBeUndefined();
    expect(codeOf(() => checkToken('x'.repeat(128), 'id'))).toBeUndefined();
  });
  it.each(['', 'has space', 'x'.repeat(129), 'ümlaut'])('rejects %j', (value) => {
    expect(codeOf(() => checkToken(value, 'id'))).toBe('InvalidArgument');
  });
  it('throws MessageTooLarge stating the sizes and the limit', () => {
    expect(() => checkSize(100, 10, 100)).toThrow(
      /110 bytes \(body 100 \+ attributes 10\); the limit is 100 bytes/,
    );
    expect(codeOf(() => checkSize(100, 10, 100))).toBe('MessageTooLarge');
    expect(codeOf(() => checkSize(90, 10, 100))).toBeUndefined();
  });
});
