/** Tests for parseBrokerUrl(): what is accepted, and a message saying what is wrong for what is not. */
import { describe, expect, it } from 'vitest';
import { parseBrokerUrl } from './broker-url.js';
import { OmnibusError } from './errors.js';

function problem(text: string): string {
  try {
    parseBrokerUrl(text);
  } catch (error) {
    if (!OmnibusError.isInstance(error)) throw error;
    expect(error).toMatchObject({ code: 'Config', retryable: false });
    return error.message;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseBrokerUrl accepts', () => {
  it.each([
    ['memory:', '@omnibus/memory', undefined],
    ['memory://', '@omnibus/memory', undefined],
    ['memory://orders-test', '@omnibus/memory', undefined],
    ['memory:?prefix=app-', '@omnibus/memory', 'app-'],
    ['redis://localhost:6379/0?prefix=app-', '@omnibus/redis', 'app-'],
    ['REDISS://:p%40ss@cache.internal:6380', '@omnibus/redis', undefined],
    ['amqp://guest:guest@rabbit:5672/%2F', '@omnibus/rabbitmq', undefined],
    ['amqps://user:pa:ss@rabbit', '@omnibus/rabbitmq', undefined],
    ['  sqs://eu-west-1  ', '@omnibus/sqs', undefined],
    ['gcppubsub://my-project', '@omnibus/gcp-pubsub', undefined],
  ])('%s', (text, packageName, prefix) => {
    const parsed = parseBrokerUrl(text);
    expect(parsed).toMatchObject({ packageName, prefix });
    expect(parsed.url.searchParams.has('prefix')).toBe(false);
  });
});

describe('parseBrokerUrl refuses, saying why', () => {
  it.each([
    ['', /: it is empty; use e\.g\. memory:\/\/ or redis:\/\/localhost:6379$/],
    ['   ', /: it is empty/],
    [
      'amqp//guest:pw@rabbit',
      /^broker URL "amqp\/\/\*\*\*@rabbit": the ":" after the scheme is missing/,
    ],
    ['//cache:6379', /it does not start with a scheme/],
    // A bare word may be a secret in the wrong variable: it is not quoted.
    [
      'Sup3rS3cr3tPW',
      /^broker URL is not a URL \(it has no scheme:\/\/\), so its value is not shown/,
    ],
    [
      'localhost:6379',
      /no Omnibus adapter serves "localhost:" URLs; known schemes: memory: redis:/,
    ],
    ['redis:/:pw@host', /^broker URL "redis:\/\*\*\*@host": "redis:" must be followed by "\/\/"/],
    ['redis:host', /"redis:" must be followed by "\/\/": redis:\/\/host\[:port\]$/],
    ['amqp:\\\\rabbit', /"amqp:" must be followed by "\/\/"/],
    ['memory:/x', /write memory:, memory:\/\/ or memory:\/\/NAME$/],
    ['memory:name', /write memory:, memory:\/\/ or memory:\/\/NAME$/],
    ['redis://', /it has no host: redis:\/\/host\[:port\]$/],
    ['redis:///0', /it has no host/],
    ['amqp://?prefix=x', /it has no host/],
    ['redis://cache:port', /it is not a valid URL: check the host and the port/],
    ['redis://:pw@cache:port', /it is not a valid URL: a user name or password holding any of/],
    ['redis://cache host', /it is not a valid URL: it contains a space/],
    ['redis://u:12/ss@cache', /it has an "@" after the host: a user name or password holding/],
    ['redis://tok?en@cache', /it has an "@" after the host/],
    ['redis://tok#en@cache', /it has an "@" after the host/],
    [
      'redis://cache?prefix=1x',
      /its prefix parameter is not valid: prefix "1x" starts with "1" \(U\+0031\), not a letter; the portable rule/,
    ],
    [
      'redis://cache?prefix=googx',
      /its prefix parameter is not valid: prefix must not start with "goog"/,
    ],
    ['redis://cache?prefix=a&prefix=b', /it has 2 prefix parameters; give one$/],
  ])('%j', (text, expected) => {
    expect(problem(text)).toMatch(expected);
  });
  it('names OMNIBUS_URL when that is where the URL came from', () => {
    expect(() => parseBrokerUrl('redis:/x', 'OMNIBUS_URL')).toThrow(/^OMNIBUS_URL "redis:\/x": /);
  });
  it('shortens a very long URL in the message', () => {
    expect(problem(`redis:/${'x'.repeat(500)}`).length).toBeLessThan(320);
  });
});
