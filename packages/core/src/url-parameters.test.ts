import { describe, expect, it } from 'vitest';
import { OmnibusError } from './errors.js';
import { checkUrlParameters } from './url-parameters.js';

const rules = { adapter: 'redis', known: ['operationTimeoutMs', 'keyPrefix'] } as const;

function refusal(url: string, passThrough = false): OmnibusError {
  try {
    checkUrlParameters(new URL(url), { ...rules, passThrough });
  } catch (error) {
    if (OmnibusError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`${url} was accepted`);
}

describe('checkUrlParameters', () => {
  it('accepts the known parameters', () => {
    expect(() =>
      checkUrlParameters(new URL('redis://h/?operationTimeoutMs=1&keyPrefix=a'), rules),
    ).not.toThrow();
  });

  it('refuses a near-miss in case, naming the right spelling, even where others pass through', () => {
    for (const passThrough of [false, true]) {
      const error = refusal('redis://h/?operationTimeoutMS=1000', passThrough);
      expect(error.code).toBe('Config');
      expect(error.message).toContain('did you mean "operationTimeoutMs"');
    }
  });

  it('refuses an unknown parameter unless the client takes the rest, and never quotes a value', () => {
    const error = refusal('redis://h/?password=hunter2');
    expect(error.message).toContain('"password" is not known');
    expect(error.message).not.toContain('hunter2');
    expect(() =>
      checkUrlParameters(new URL('redis://h/?family=6'), { ...rules, passThrough: true }),
    ).not.toThrow();
  });
});
