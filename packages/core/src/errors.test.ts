/** Tests for OmnibusError: identity across copies, wrapping driver errors, and no secret in any of it. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  InvalidArgumentError,
  OmnibusError,
  sanitizeCause,
  toOmnibusError,
} from './errors.js';
import { expectNowhere } from './test-support/error-exposure.js';

describe('OmnibusError', () => {
  it('is recognised across copies by its Symbol.for marker', () => {
    const foreign = { [Symbol.for('omnibus.error')]: true, code: 'Internal' };
    expect(OmnibusError.isInstance(foreign)).toBe(true);
    expect(OmnibusError.isInstance(new Error('x'))).toBe(false);
    expect(OmnibusError.isInstance(new InvalidArgumentError('x'))).toBe(true);
  });
  it('wraps a native error with the driver classification and keeps a copy of it as cause', () => {
    const native = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
      code: 'ECONNREFUSED',
      errno: -111,
      port: 6379,
    });
    const wrapped = toOmnibusError(
      native,
      { name: 'redis', classifyError: () => ({ code: 'Unavailable', retryable: true }) },
      'publish failed',
    );
    expect(wrapped).toMatchObject({ code: 'Unavailable', retryable: true, driver: 'redis' });
    expect(wrapped.message).toBe('publish failed: connect ECONNREFUSED 127.0.0.1:6379');
    expect(wrapped.cause).toBeInstanceOf(Error);
    expect(wrapped.cause).toMatchObject({
      name: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:6379',
      code: 'ECONNREFUSED',
      errno: -111,
      port: 6379,
    });
  });
  it('falls back to Internal, not retryable, when the driver cannot classify', () => {
    const wrapped = toOmnibusError('boom', { name: 'x' }, 'ctx');
    expect(wrapped).toMatchObject({ code: 'Internal', retryable: false });
  });
  it('wraps a thrown value that cannot even be turned into a string', () => {
    const wrapped = toOmnibusError(Object.create(null), { name: 'x' }, 'ctx');
    expect(wrapped.message).toBe('ctx: [object Object]');
  });
  it('keeps an OmnibusError as it is', () => {
    const original = new OmnibusError('NotFound', 'gone');
    expect(toOmnibusError(original, { name: 'x' }, 'ctx')).toBe(original);
  });
  it('names the subclass in its stack', () => {
    expect(new ConfigError('bad').stack).toMatch(/^ConfigError: bad\n/);
  });
});

describe('no secret in an OmnibusError', () => {
  const SECRET = 'hunter2S3cret';

  /** An error as ioredis or amqplib would make it, with the password in every place it can go. */
  function driverError(): Error {
    const urlError = Object.assign(new TypeError('Invalid URL'), {
      code: 'ERR_INVALID_URL',
      input: `redis//default:${SECRET}@cache.internal:6379`,
    });
    const socketError = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:6379'), {
      code: 'ECONNREFUSED',
      cause: urlError,
    });
    const aggregate = new AggregateError(
      [socketError, new Error(`WRONGPASS for redis://default:${SECRET}@cache.internal`)],
      `all connection attempts to rediss://:${SECRET}@cache.internal failed`,
    );
    const top = Object.assign(
      new Error(`Reached the max retries per request limit for redis://:${SECRET}@cache.internal`),
      {
        name: 'MaxRetriesPerRequestError',
        cause: aggregate,
        command: { name: 'auth', args: [SECRET] },
        previousErrors: [new Error(`AUTH failed: {"user":"default","password":"${SECRET}"}`)],
        password: SECRET,
        [Symbol('options')]: { password: SECRET },
        [Symbol.for('nodejs.util.inspect.custom')]: () => SECRET,
      },
    );
    Object.defineProperty(top, 'connectionString', {
      get: () => `amqp://guest:${SECRET}@rabbit`,
      enumerable: true,
    });
    // A cycle: the innermost cause points back at the top.
    Object.assign(urlError, { cause: top });
    return top;
  }

  it('holds for a driver error wrapped by toOmnibusError, through message, stack and causes', () => {
    const native = driverError();
    const wrapped = toOmnibusError(
      native,
      { name: 'redis', classifyError: () => undefined },
      'send failed',
    );
    expectNowhere(wrapped, [SECRET]);
    expect(wrapped.message).toContain('redis://:***@cache.internal');
  });

  it('holds when the driver classification message quotes the secret', () => {
    const wrapped = toOmnibusError(
      driverError(),
      {
        name: 'rabbitmq',
        classifyError: () => ({
          code: 'Unauthenticated',
          retryable: false,
          message: `login refused for amqp://guest:${SECRET}@rabbit`,
        }),
      },
      'connect failed',
    );
    expectNowhere(wrapped, [SECRET]);
  });

  it('keeps what the cause chain says, minus the secrets', () => {
    const wrapped = new ConfigError('could not connect', { cause: driverError() });
    const top = wrapped.cause as Error & Record<string, unknown>;
    expect(top.name).toBe('MaxRetriesPerRequestError');
    expect(top.message).toBe(
      'Reached the max retries per request limit for redis://:***@cache.internal',
    );
    expect(top.password).toBe('***');
    expect(top.command).toBeUndefined();
    const aggregate = top.cause as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors).toHaveLength(2);
    const socket = aggregate.errors[0] as Error & { code: string; cause: TypeError };
    expect(socket.code).toBe('ECONNREFUSED');
    expect(socket.cause).toBeInstanceOf(TypeError);
    expect(socket.cause).toMatchObject({
      code: 'ERR_INVALID_URL',
      input: 'redis//default:***@cache.internal:6379',
    });
    // The cycle back to the top is kept as a cycle between the copies.
    expect((socket.cause as { cause?: unknown }).cause).toBe(top);
  });

  it('leaves the native error as it was: the copy is ours, the original is not', () => {
    const native = driverError();
    new ConfigError('x', { cause: native });
    expect(native.message).toContain(SECRET);
    expect((native as { password?: string }).password).toBe(SECRET);
  });

  it('holds for a non-error cause: a string, a plain object, a frozen error', () => {
    const frozen = Object.freeze(
      Object.assign(new Error(`token=${SECRET}`), { url: `sqs://AKIA:${SECRET}@eu` }),
    );
    for (const cause of [
      `amqp//guest:${SECRET}@host`,
      { reason: `redis://:${SECRET}@h`, auth: SECRET, nested: { password: SECRET } },
      frozen,
    ]) {
      expectNowhere(new ConfigError('failed', { cause }), [SECRET]);
    }
  });

  it('cuts a very deep cause chain instead of recursing without end', () => {
    let chain: Error = new Error(`redis://:${SECRET}@deep`);
    for (let depth = 0; depth < 10_000; depth++)
      chain = new Error(`level ${depth}`, { cause: chain });
    const copy = sanitizeCause(chain);
    expect(copy).toBeInstanceOf(Error);
    expectNowhere(new ConfigError('deep', { cause: chain }), [SECRET]);
  });
});
