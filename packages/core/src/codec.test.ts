import { describe, expect, it } from 'vitest';
import { BYTES_CONTENT_TYPE, decodeBody, encodeBody, JSON_CONTENT_TYPE } from './codec.js';
import { OmnibusError } from './errors.js';

describe('codec', () => {
  it('encodes JSON with no envelope', () => {
    const { bytes, contentType } = encodeBody({ item: 'Burger' });
    expect(Buffer.from(bytes).toString()).toBe('{"item":"Burger"}');
    expect(contentType).toBe(JSON_CONTENT_TYPE);
  });
  it('passes bytes through as a copy', () => {
    const original = new Uint8Array([0, 255, 7]);
    const { bytes, contentType } = encodeBody(original);
    original[0] = 9;
    expect([...bytes]).toEqual([0, 255, 7]);
    expect(contentType).toBe(BYTES_CONTENT_TYPE);
  });
  it.each([
    ['undefined', undefined],
    ['a BigInt', 10n],
    [
      'a cycle',
      (() => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      })(),
    ],
    ['a function', () => 1],
  ])('refuses %s with InvalidArgument', (_why, body) => {
    let caught: unknown;
    try {
      encodeBody(body);
    } catch (error) {
      caught = error;
    }
    expect(OmnibusError.isInstance(caught) && caught.code).toBe('InvalidArgument');
  });
  it('decodes by content type, JSON when there is none (plain clients)', () => {
    const json = Buffer.from('{"a":1}');
    expect(decodeBody(json, undefined)).toEqual({ a: 1 });
    expect(decodeBody(json, 'application/json; charset=utf-8')).toEqual({ a: 1 });
    expect(decodeBody(json, 'application/cloudevents+json')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('hi'), 'text/plain')).toBe('hi');
    expect(decodeBody(json, BYTES_CONTENT_TYPE)).toBe(json);
    expect(() => decodeBody(Buffer.from('not json'), undefined)).toThrow(SyntaxError);
  });
});
