import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import { OmnibusError } from './errors.js';

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
  it('names the package to install for a scheme whose adapter is missing', async () => {
    const error = await failure(connect('gcppubsub://my-project'));
    expect(error.code).toBe('Config');
    expect(error.message).toContain('npm install @omnibus/gcp-pubsub');
  });
  it('never shows credentials from a bad URL', async () => {
    const error = await failure(connect('amqp://guest:s3cret@[bad'));
    expect(error.code).toBe('Config');
    expect(error.message).not.toContain('s3cret');
  });
  it('refuses a driver of another specification version', async () => {
    const error = await failure(connect({ specificationVersion: 'v0' } as never));
    expect(error.code).toBe('Config');
  });
});
