/** Tests for connect(): URL errors say what is wrong, before any adapter loads, and never show a secret. */
import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import { OmnibusError } from './errors.js';
import { expectNowhere } from './test-support/error-exposure.js';

async function failure(promise: Promise<unknown>): Promise<OmnibusError> {
  try {
    await promise;
  } catch (error) {
    if (OmnibusError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('connect', () => {
  it('rejects an unknown scheme with a Config error listing the known ones', async () => {
    const error = await failure(connect('kafka://broker:9092'));
    expect(error.code).toBe('Config');
    expect(error.message).toMatch(
      /no Omnibus adapter serves "kafka:" URLs; known schemes: memory: redis:/,
    );
  });
  it('rejects redis:/:pw@host (one slash) instead of connecting to the default Redis', async () => {
    const error = await failure(connect('redis:/:pw-Secret9@cache.internal'));
    expect(error).toMatchObject({ code: 'Config', retryable: false });
    expect(error.message).toBe(
      'broker URL "redis:/***@cache.internal": "redis:" must be followed by "//": redis://host[:port]',
    );
  });
  it('checks a malformed URL before loading the adapter', async () => {
    // Checked by core before the adapter loads: the adapter's own check would word it otherwise.
    const error = await failure(connect('sqs://?prefix=app'));
    expect(error.message).toContain('it has no host');
  });
  it('rejects a bad ?prefix= with a Config error naming the parameter', async () => {
    const error = await failure(connect('redis://cache.internal:6379?prefix=1-bad'));
    expect(error.code).toBe('Config');
    expect(error.message).toMatch(
      /its prefix parameter is not valid: prefix "1-bad" starts with "1" \(U\+0031\), not a letter; the portable rule: at most 32 characters/,
    );
  });
  it('says where the URL came from when it is OMNIBUS_URL', async () => {
    const saved = process.env.OMNIBUS_URL;
    process.env.OMNIBUS_URL = 'amqp//guest:guest-S3cret@rabbit';
    try {
      const error = await failure(connect());
      expect(error.message).toMatch(/^OMNIBUS_URL "amqp\/\/\*\*\*@rabbit": the ":" after/);
    } finally {
      if (saved === undefined) delete process.env.OMNIBUS_URL;
      else process.env.OMNIBUS_URL = saved;
    }
  });
  it('refuses a driver of another specification version', async () => {
    const error = await failure(connect({ specificationVersion: 'v0' } as never));
    expect(error.code).toBe('Config');
    const v1 = await failure(connect({ specificationVersion: 'v1', name: 'redis' } as never));
    expect(v1.code).toBe('Config');
    expect(v1.message).toMatch(/redis driver implements driver specification "v1".*needs "v2"/);
  });
});

describe('connect never shows a secret from a URL', () => {
  const SCHEMES = ['memory', 'redis', 'rediss', 'amqp', 'amqps', 'sqs', 'gcppubsub', 'kafka'];
  // Each password is checked by both halves: neither may show, whatever sits between them.
  const PASSWORDS = ['pA55w0rdS3cret', 'pA55:w0rdS3cret', 'pA55%40w0rdS3cret', 'pA55%2Fw0rdS3cret'];
  const MALFORMED: readonly ((scheme: string, password: string) => string)[] = [
    (s, p) => `${s}//guest:${p}@broker.internal`,
    (s, p) => `${s}:/guest:${p}@broker.internal`,
    (s, p) => `${s}:/:${p}@broker.internal`,
    (s, p) => `${s}:guest:${p}@broker.internal`,
    (s, p) => `${s}://:${p}@`,
    (s, p) => `${s}://guest:${p}@broker.internal:port`,
    (s, p) => `${s}://guest:${p}@broker internal`,
    (s, p) => `${s}://guest:${p}@[broker`,
    // A raw "/", "#" or "?" in the password, in place of its ":" or in front of the second half.
    ...['/', '#', '?'].flatMap((raw) => [
      (s: string, p: string) => `${s}://guest:${p.replace(/:|(?=w0rd)/, raw)}@broker.internal`,
      (s: string, p: string) => `${s}://${p.replace(/:|(?=w0rd)/, raw)}@broker.internal`,
    ]),
  ];
  // Well-formed, and still refused: by core (a bad prefix) or for a missing or unknown adapter.
  const WELL_FORMED: readonly ((scheme: string, password: string) => string)[] = [
    (s, p) => `${s}://guest:${p}@broker.internal:6379/0?prefix=9bad`,
    (s, p) => `${s}://${p}@broker.internal?prefix=a&prefix=b`,
    (s, p) => `${s}://broker.internal/?password=${encodeURIComponent(p)}&prefix=9bad`,
  ];
  const cases = SCHEMES.flatMap((scheme) =>
    [...MALFORMED, ...WELL_FORMED].flatMap((form) =>
      PASSWORDS.map((password) => form(scheme, password)),
    ),
  );
  it.each(SCHEMES)(
    'for every %s: URL form, in message, stack, inspect, JSON and causes',
    async (scheme) => {
      for (const url of cases.filter((candidate) => candidate.startsWith(scheme))) {
        const error = await failure(connect(url));
        expect(error.code, url).toBe('Config');
        expectNowhere(error, ['pA55', 'w0rdS3cret']);
      }
    },
  );
  // The missing-package message itself is adapter-loader.test.ts's (a fake scheme): in this
  // workspace every adapter is installed.
  it('for SQS and Pub/Sub URLs that carry credentials, which neither adapter takes', async () => {
    for (const url of [
      'sqs://AKIA:pA55w0rdS3cret@eu-west-1',
      'gcppubsub://tok:pA55w0rdS3cret@project',
    ]) {
      const error = await failure(connect(url));
      expect(error.code, url).toBe('Config');
      expectNowhere(error, ['pA55', 'w0rdS3cret']);
    }
  });
});
