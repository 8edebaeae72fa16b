// fromUrl, the error table and the service limits: no emulator needed.
import { OmnibusError } from '@omnibus/core';
import { describe, expect, it } from 'vitest';
import { classifyError } from './classify-error.js';
import { fromUrl } from './index.js';
import { checkServiceLimits, SERVICE_LIMITS, truncateUtf8 } from './service-limits.js';

function configError(action: () => unknown): OmnibusError {
  try {
    action();
  } catch (error) {
    expect(OmnibusError.isInstance(error) && error.code).toBe('Config');
    return error as OmnibusError;
  }
  throw new Error('expected a ConfigError');
}

describe('fromUrl', () => {
  it('takes the project from the host and the known parameters', async () => {
    const driver = fromUrl(
      new URL(
        'gcppubsub://my-project?apiEndpoint=127.0.0.1:1&operationTimeoutMs=2500&pullTimeoutMs=3000',
      ),
    );
    expect(driver.name).toBe('gcp-pubsub');
    expect(driver.operationTimeoutMs).toBe(2500);
    expect((driver.native as { projectId: string }).projectId).toBe('my-project');
    await driver.close();
  });

  it('refuses an unknown or misspelt parameter and a bad pull deadline, naming them', () => {
    expect(
      configError(() => fromUrl(new URL('gcppubsub://p?operationTimeoutMS=1'))).message,
    ).toContain('operationTimeoutMs');
    expect(configError(() => fromUrl(new URL('gcppubsub://p?filter=x'))).message).toContain(
      'filter',
    );
    expect(configError(() => fromUrl(new URL('gcppubsub://p?pullTimeoutMs=10'))).message).toContain(
      'pullTimeoutMs',
    );
  });
});

describe('classifyError', () => {
  const grpc = (code: number, message: string) => Object.assign(new Error(message), { code });
  it.each([
    [
      14,
      'UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED',
      'Unavailable',
      true,
    ],
    [14, 'UNAVAILABLE: No connection established. Last error: Protocol error', 'Config', false],
    [4, 'DEADLINE_EXCEEDED', 'Timeout', true],
    [5, 'NOT_FOUND: Topic not found', 'NotFound', false],
    [6, 'ALREADY_EXISTS: Subscription already exists', 'AlreadyExists', false],
    [7, 'PERMISSION_DENIED', 'PermissionDenied', false],
    [16, 'UNAUTHENTICATED', 'Unauthenticated', false],
    [3, 'INVALID_ARGUMENT: Request payload size exceeds the limit', 'MessageTooLarge', false],
    [3, 'INVALID_ARGUMENT: bad name', 'InvalidArgument', false],
    [8, 'RESOURCE_EXHAUSTED', 'Unavailable', true],
  ] as const)('gRPC %i "%s" → %s', (code, message, expected, retryable) => {
    expect(classifyError(grpc(code, message))).toMatchObject({ code: expected, retryable });
  });

  it('a call on closed clients is Closed', () => {
    expect(classifyError(new Error('The client has already been closed.'))?.code).toBe('Closed');
  });
});

describe('service limits', () => {
  it('refuses what the service would, which the emulator accepts', () => {
    const big = new Uint8Array(SERVICE_LIMITS.requestBytes + 1);
    expect(() => checkServiceLimits({ data: big })).toThrow(/10000000/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, n) => [`a${n}`, 'v']));
    expect(() => checkServiceLimits({ data: new Uint8Array(1), attributes: many })).toThrow(/100/);
    expect(() =>
      checkServiceLimits({ data: new Uint8Array(1), attributes: { a: 'v'.repeat(1025) } }),
    ).toThrow(/1024/);
    expect(() =>
      checkServiceLimits({ data: new Uint8Array(1), orderingKey: 'k'.repeat(1025) }),
    ).toThrow(/ordering key/);
    expect(() =>
      checkServiceLimits({ data: new Uint8Array(1), attributes: { a: 'v'.repeat(1024) } }),
    ).not.toThrow();
  });

  it('cuts a long reason to the attribute limit, marked', () => {
    const cut = truncateUtf8('é'.repeat(2000), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…')).toBe(true);
    expect(truncateUtf8('short', 1024)).toBe('short');
  });
});
