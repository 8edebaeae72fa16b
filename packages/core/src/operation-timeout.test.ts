/** Tests for reading `operationTimeoutMs` from an adapter URL. */
import { describe, expect, it } from 'vitest';
import { OmnibusError } from './errors.js';
import { DEFAULT_OPERATION_TIMEOUT_MS, readOperationTimeout } from './operation-timeout.js';

describe('readOperationTimeout', () => {
  it('returns the 15 s default when the URL has no operationTimeoutMs', () => {
    expect(DEFAULT_OPERATION_TIMEOUT_MS).toBe(15_000);
    expect(readOperationTimeout(new URL('redis://cache:6379/0?prefix=app'))).toBe(15_000);
  });
  it.each([
    ['100', 100],
    ['2000', 2000],
    ['3600000', 3_600_000],
  ])('reads %s ms', (text, expected) => {
    expect(readOperationTimeout(new URL(`amqp://rabbit?operationTimeoutMs=${text}`))).toBe(
      expected,
    );
  });
  it.each([
    ['below the range', '99'],
    ['above the range', '3600001'],
    ['zero', '0'],
    ['negative', '-5'],
    ['fractional', '1500.5'],
    ['exponent', '1e4'],
    ['hexadecimal', '0x400'],
    ['padded', ' 2000'],
    ['empty', ''],
    ['a word', 'fast'],
  ])('rejects %s with a ConfigError naming the parameter and the range', (_why, text) => {
    const url = new URL(`redis://cache?operationTimeoutMs=${encodeURIComponent(text)}`);
    let thrown: unknown;
    try {
      readOperationTimeout(url);
    } catch (error) {
      thrown = error;
    }
    expect(OmnibusError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'Config', retryable: false });
    expect((thrown as Error).message).toMatch(
      /^operationTimeoutMs must be a whole number of milliseconds from 100 to 3600000, got /,
    );
  });
});
