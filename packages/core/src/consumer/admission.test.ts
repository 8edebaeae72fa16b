import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../driver.js';
import { type AdmissionSettings, admit, PendingAdmission, Refusal } from './admission.js';

function received(body: string, attempt = 1, contentType = 'application/json'): ReceivedMessage {
  return {
    id: 'm1',
    body: Buffer.from(body),
    attributes: {},
    contentType,
    publishedAt: 0,
    attempt,
    handle: 1,
    native: undefined,
  };
}

function settings<T>(overrides: Partial<AdmissionSettings<T>> = {}): AdmissionSettings<T> {
  return {
    maxAttempts: 3,
    deadLetter: true,
    schema: undefined,
    retry: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
    maxNackDelayMs: 30_000,
    ...overrides,
  };
}

function schema<T>(
  validate: (value: unknown) => StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>,
): StandardSchemaV1<unknown, T> {
  return { '~standard': { version: 1, vendor: 'test', validate } };
}

describe('admit', () => {
  it('returns the decoded body itself when nothing refuses it', () => {
    expect(admit(received('{"a":1}'), settings())).toEqual({ a: 1 });
  });

  it('refuses a delivery past its last attempt, recording only the attempts handled', () => {
    const refusal = admit(received('{}', 4), settings());
    expect(refusal).toBeInstanceOf(Refusal);
    expect(refusal).toMatchObject({ outcome: 'dead-lettered', attempts: 3 });
  });

  it('dead-letters an undecodable body without using up attempts', () => {
    const refusal = admit(received('{not json'), settings());
    expect(refusal).toBeInstanceOf(Refusal);
    expect(refusal).toMatchObject({ outcome: 'dead-lettered', attempts: undefined });
    expect((refusal as Refusal).reason).toMatch(/^body could not be decoded \(application\/json\)/);
  });

  it('without a DLQ, nacks a refused body with the longest retry delay the driver allows', () => {
    const refusal = admit(received('{not json'), settings({ deadLetter: false }));
    expect(refusal).toMatchObject({ outcome: 'nacked', delayMs: 30_000 });
  });

  it('returns the schema output, or refuses with the first issues and their paths', () => {
    const upper = schema((value) => ({ value: String((value as { a: string }).a).toUpperCase() }));
    expect(admit(received('{"a":"x"}'), settings({ schema: upper }))).toBe('X');
    const failing = schema(() => ({ issues: [{ message: 'bad', path: ['a', { key: 'b' }] }] }));
    expect(admit(received('{}'), settings({ schema: failing }))).toMatchObject({
      outcome: 'dead-lettered',
      reason: 'schema validation failed: a.b: bad',
    });
  });

  it('waits for an asynchronous schema, which never rejects: a throw becomes a refusal', async () => {
    const later = schema(async () => ({ value: 7 }));
    const pending = admit(received('{}'), settings({ schema: later }));
    expect(pending).toBeInstanceOf(PendingAdmission);
    await expect((pending as PendingAdmission<number>).settled).resolves.toBe(7);
    const throwing = schema(async () => {
      throw new Error('boom');
    });
    const refused = admit(received('{}'), settings({ schema: throwing }));
    await expect((refused as PendingAdmission<number>).settled).resolves.toMatchObject({
      outcome: 'dead-lettered',
      reason: 'schema validation threw: boom',
    });
  });
});
