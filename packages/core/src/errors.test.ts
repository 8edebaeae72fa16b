import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OmnibusError, redact, toOmnibusError } from './errors.js';

describe('redact', () => {
  it.each([
    ['amqp://guest:s3cret@rabbit:5672/vhost', 'amqp://guest:***@rabbit:5672/vhost'],
    ['redis://:hunter2@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://token@cache:6380', 'rediss://***@cache:6380'],
    ['failed: password=hunter2 at host', 'failed: password=*** at host'],
    ['{"secretAccessKey":"abc/def"}', '{"secretAccessKey":"***"}'],
    ['nothing secret here: redis://cache:6379', 'nothing secret here: redis://cache:6379'],
  ])('redacts %s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
  it('applies to every OmnibusError message', () => {
    const error = new OmnibusError('Unavailable', 'cannot reach amqp://user:pa55@host');
    expect(error.message).not.toContain('pa55');
  });
});

describe('OmnibusError', () => {
  it('is recognised across copies by its Symbol.for marker', () => {
    const foreign = { [Symbol.for('omnibus.error')]: true, code: 'Internal' };
    expect(OmnibusError.isInstance(foreign)).toBe(true);
    expect(OmnibusError.isInstance(new Error('x'))).toBe(false);
    expect(OmnibusError.isInstance(new InvalidArgumentError('x'))).toBe(true);
  });
  it('wraps a native error with the driver classification and keeps it as cause', () => {
    const native = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    const wrapped = toOmnibusError(
      native,
      { name: 'redis', classifyError: () => ({ code: 'Unavailable', retryable: true }) },
      'publish failed',
    );
    expect(wrapped).toMatchObject({ code: 'Unavailable', retryable: true, driver: 'redis' });
    expect(wrapped.cause).toBe(native);
    expect(wrapped.message).toBe('publish failed: connect ECONNREFUSED 127.0.0.1:6379');
  });
  it('falls back to Internal, not retryable, when the driver cannot classify', () => {
    const wrapped = toOmnibusError('boom', { name: 'x' }, 'ctx');
    expect(wrapped).toMatchObject({ code: 'Internal', retryable: false });
  });
  it('keeps an OmnibusError as it is', () => {
    const original = new OmnibusError('NotFound', 'gone');
    expect(toOmnibusError(original, { name: 'x' }, 'ctx')).toBe(original);
  });
});
