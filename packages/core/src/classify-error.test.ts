import { describe, expect, it } from 'vitest';
import { classifyWith, NETWORK_ERROR_RULES } from './classify-error.js';

function nodeError(code: string, message = `connect ${code} 127.0.0.1:6379`): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyWith', () => {
  const classify = classifyWith([
    ['NOGROUP', { code: 'NotFound', retryable: true, message: 'the consumer group is gone' }],
    ['ECONNREFUSED', { code: 'Unavailable', retryable: true, message: 'Redis refused' }],
    [404, { code: 'NotFound', retryable: false }],
    ['ThrottlingException', { code: 'Timeout', retryable: true }],
    [/^Connection is closed\./, { code: 'Unavailable', retryable: true }],
    [
      (error) => /: (\d{3}) \(/.exec(error.message)?.[1] === '403',
      { code: 'PermissionDenied', retryable: false },
    ],
  ]);

  it('shares the Node network rows: Unavailable and retryable, with the native message kept', () => {
    for (const code of [
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
    ])
      expect(classify(nodeError(code)), code).toEqual({ code: 'Unavailable', retryable: true });
    expect(classify(nodeError('CERT_HAS_EXPIRED'))).toEqual({ code: 'Config', retryable: false });
    expect(NETWORK_ERROR_RULES.length).toBeGreaterThan(10);
  });

  it('lets an adapter row override a shared one', () => {
    expect(classify(nodeError('ECONNREFUSED'))?.message).toBe('Redis refused');
  });

  it('matches a string against code, class name and leading word; a number against a numeric code', () => {
    expect(classify(new Error('NOGROUP No such key'))?.code).toBe('NotFound');
    expect(classify(new Error('NOGROUP: gone'))?.code).toBe('NotFound');
    expect(classify(Object.assign(new Error('x'), { name: 'ThrottlingException' }))?.code).toBe(
      'Timeout',
    );
    expect(classify(Object.assign(new Error('no queue'), { code: 404 }))?.code).toBe('NotFound');
    expect(classify(new Error('Connection is closed.'))?.code).toBe('Unavailable');
    expect(classify(new Error('Channel closed by server: 403 (ACCESS-REFUSED)'))?.code).toBe(
      'PermissionDenied',
    );
  });

  it('looks through wrapping causes, and says nothing of what it does not know', () => {
    const wrapped = new Error('request failed', { cause: nodeError('ECONNRESET') });
    expect(classify(wrapped)?.code).toBe('Unavailable');
    expect(classify(new Error('something else'))).toBeUndefined();
    expect(classify('ECONNREFUSED')).toBeUndefined();
    expect(classify(undefined)).toBeUndefined();
  });

  it('reads codes through codeOf where error.code alone does not say it', () => {
    const amqp = classifyWith([[403, { code: 'Unauthenticated', retryable: false }]], {
      codeOf: (error) => {
        const fromText = /: (\d{3}) \(/.exec(error.message)?.[1];
        return fromText === undefined ? undefined : Number(fromText);
      },
    });
    expect(amqp(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED)'))?.code).toBe(
      'Unauthenticated',
    );
    expect(amqp(Object.assign(new Error('x'), { code: 403 }))?.code).toBe('Unauthenticated');
    expect(amqp(nodeError('ECONNREFUSED'))?.code).toBe('Unavailable');
  });

  it('survives a predicate or getter that throws', () => {
    const classifyThrowing = classifyWith([
      [
        () => {
          throw new Error('boom');
        },
        { code: 'Internal', retryable: false },
      ],
    ]);
    expect(classifyThrowing(new Error('x'))).toBeUndefined();
  });
});
