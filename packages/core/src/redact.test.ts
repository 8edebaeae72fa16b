/** Tests for redact(): every form of credential is taken out, ordinary text is left as it is. */
import { describe, expect, it } from 'vitest';
import { redact, redactUrl } from './redact.js';

const SCHEMES = ['memory', 'redis', 'rediss', 'amqp', 'amqps', 'sqs', 'gcppubsub', 'kafka+ssl'];
// The password's two halves are checked separately: neither may survive, whatever sits between.
const PASSWORDS = [
  'pA55w0rdS3cret',
  'pA55:w0rdS3cret',
  'pA55#w0rdS3cret',
  'pA55?w0rdS3cret',
  'pA55/w0rdS3cret',
  'pA55@w0rdS3cret',
  'pA55%3Aw0rdS3cret',
  'pA55%23w0rdS3cret',
  'pA55%2Fw0rdS3cret',
  'pA55%40w0rdS3cret',
];
const FORMS: readonly ((scheme: string, password: string) => string)[] = [
  (s, p) => `${s}://guest:${p}@broker.internal:5672/vhost`,
  (s, p) => `${s}//guest:${p}@broker.internal`,
  (s, p) => `${s}:/guest:${p}@broker.internal`,
  (s, p) => `${s}:/:${p}@broker.internal`,
  (s, p) => `${s}://:${p}@broker.internal:6379/0`,
  (s, p) => `${s}://guest:${p}@[::1]:6379?prefix=app-`,
];

describe('redact: URL user info', () => {
  it.each(SCHEMES)(
    'takes the password out of every %s: URL form, alone and inside text',
    (scheme) => {
      for (const form of FORMS) {
        for (const password of PASSWORDS) {
          const url = form(scheme, password);
          for (const text of [
            url,
            `connect to ${url} failed`,
            `{"url":"${url}"}`,
            `url=${url}, retry`,
          ]) {
            const redacted = redact(text);
            expect(redacted, text).not.toContain('pA55');
            expect(redacted, text).not.toContain('w0rdS3cret');
            expect(redact(redacted), text).toBe(redacted);
          }
        }
        // A token alone is user info without a ":" (a raw ":" would make its first half a user name).
        for (const token of PASSWORDS.filter((password) => !password.includes(':'))) {
          const url = `${scheme}://${token}@broker.internal`;
          expect(redact(`failed: ${url}`)).toBe(`failed: ${scheme}://***@broker.internal`);
        }
      }
    },
  );
  it.each([
    ['amqp://guest:s3cret@rabbit:5672/vhost', 'amqp://guest:***@rabbit:5672/vhost'],
    ['redis://:hunter2@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://token@cache:6380', 'rediss://***@cache:6380'],
    ['amqp//guest:PASS@host', 'amqp//guest:***@host'],
    ['redis:/:pw@host', 'redis:/:***@host'],
    ['redis:/u:pw@host', 'redis:/u:***@host'],
    ['redis://:pa/ss@host', 'redis://:***@host'],
    ['redis://u:p@ss@host', 'redis://u:***@host'],
    ['redis://a:p1@h1,redis://b:p2@h2', 'redis://a:***@h1,redis://b:***@h2'],
    ['AMQP://guest:x@host', 'AMQP://guest:***@host'],
    ['connecting to guest:guest@localhost:5672', 'connecting to guest:***@localhost:5672'],
    // A URL in a query parameter: its own password goes, the outer URL stays readable.
    [
      'sqs://us-east-1?endpoint=http://user:pass@localhost:4566&prefix=x',
      'sqs://us-east-1?endpoint=http://user:***@localhost:4566&prefix=x',
    ],
    [
      'sqs://moto:4566?mode=queue&endpoint=https://token@h/',
      'sqs://moto:4566?mode=queue&endpoint=https://***@h/',
    ],
    // ...but a password broken by an unencoded "?" is still masked whole.
    ['redis://u:pa?x=http://y@host', 'redis://u:***@host'],
    // Percent-encoded user info in a query value is decoded by URL parsers: masked as well.
    [
      'sqs://us-east-1?endpoint=http%3A%2F%2Fuser%3Apass%40h%3A4566',
      'sqs://us-east-1?endpoint=http%3A%2F%2Fuser%3A***%40h%3A4566',
    ],
    ['endpoint=https%3a%2f%2fs3cret%40h', 'endpoint=https%3a%2f%2f***%40h'],
  ])('redacts %s as %s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
  it('masks all user info of a known broker URL, however malformed', () => {
    expect(redactUrl('amqp//guest:PASS@host')).toBe('amqp//***@host');
    expect(redactUrl('redis://:p?a#s/s@h:1/0')).toBe('redis://***@h:1/0');
    expect(redactUrl('memory://')).toBe('memory://');
  });
});

describe('redact: secrets in pairs, headers and keys', () => {
  it.each([
    ['failed: password=hunter2 at host', 'failed: password=*** at host'],
    ['redis://h/?password=hunter2&db=1', 'redis://h/?password=***&db=1'],
    ['url=redis://h/?token=abc', 'url=redis://h/?token=***'],
    ['{"secretAccessKey":"abc/def"}', '{"secretAccessKey":"***"}'],
    ['{"password": "two words"}', '{"password": "***"}'],
    ["client_secret: 'x y'", "client_secret: '***'"],
    ['Authorization: Bearer eyJhbGciOi.abc.def', 'Authorization: Bearer ***'],
    ['Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=', 'Authorization: Basic ***'],
    ['sent with Bearer eyJhbGciOiJIUzI1NiJ9', 'sent with Bearer ***'],
    [
      'X-Amz-Signature=0a1b2c3d&X-Amz-Credential=AKIA/x',
      'X-Amz-Signature=***&X-Amz-Credential=***',
    ],
    ['aws_secret_access_key = wJalrXUtnFEMI', 'aws_secret_access_key = ***'],
    ['key AKIAIOSFODNN7EXAMPLE used', 'key *** used'],
    ['secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here', 'secret *** here'],
    ['password="cut off befo', 'password="***"'],
    [
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
      '-----BEGIN RSA PRIVATE KEY-----***',
    ],
  ])('redacts %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
    expect(redact(expected)).toBe(expected);
  });
});

describe('redact: ordinary text', () => {
  it.each([
    'write to support@example.com if this persists',
    'nothing secret here: redis://cache:6379/0?prefix=app-',
    'amqp://rabbit:5672/%2F',
    'https://example.com/a?e=a@b.com',
    'fetch https://registry.npmjs.org/@omnibus%2fcore failed',
    '    at connect (file:///srv/app/node_modules/@omnibus/core/dist/connect.js:38:11)',
    'Error: connect ECONNREFUSED 127.0.0.1:6379',
    'connect ECONNREFUSED ::1:5672',
    'commit 0123456789abcdef0123456789abcdef01234567',
    '2026-11-30T06:38:21.000Z handler failed on attempt 2 of 5: TypeError: x is undefined',
    'topic "orders" does not exist',
    'bypass: true, author: Ada',
  ])('leaves %j alone', (text) => {
    expect(redact(text)).toBe(text);
  });
  it('stays fast on long adversarial input', () => {
    const inputs = [
      'a.'.repeat(50_000),
      'a//'.repeat(30_000),
      'x='.repeat(50_000),
      'u:'.repeat(50_000),
      `sqs://h?${'k=v&'.repeat(30_000)}@`,
      `x=http%3A%2F%2F${'%3A'.repeat(30_000)}`,
    ];
    for (const input of inputs) expect(redact(input).length).toBeGreaterThan(0);
  });
});
