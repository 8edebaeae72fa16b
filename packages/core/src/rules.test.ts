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
