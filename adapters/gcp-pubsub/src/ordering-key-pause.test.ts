// A failed ordered publish pauses its key: what waits behind it is refused (retryable), and the key resumes.
import type { OutgoingMessage } from '@omnibus/core/driver';
import { afterAll, describe, expect, it } from 'vitest';
import { gcpPubSub } from './gcp-pubsub.js';
import { EMULATOR_HOST, emulatorUnavailable, PROJECT_ID } from './testing/emulator.js';

const unavailable = await emulatorUnavailable();
const run = Date.now().toString(36);

function message(n: number, orderingKey: string): OutgoingMessage {
  return {
    id: `${run}-${n}`,
    body: new TextEncoder().encode(JSON.stringify(n)),
    attributes: {},
    contentType: 'application/json',
    publishedAt: Date.now(),
    orderingKey,
  };
}

describe.skipIf(unavailable !== undefined)('ordering keys on publish', () => {
  const driver = gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
  afterAll(() => driver.close());

  it('a failed publish pauses its key: the next publish of the key is refused Unavailable, the one after goes through', async () => {
    const missing = `pause-missing-${run}`;
    const topic = `pause-topic-${run}`;
    await driver.ensureTopic({ topic });
    const first = driver.publish(missing, [message(1, 'k')]);
    const behind = driver.publish(missing, [message(2, 'k')]);
    const elsewhere = driver.publish(topic, [message(3, 'k')]);
    const [failed, refused, other] = await Promise.allSettled([first, behind, elsewhere]);
    expect(failed.status).toBe('rejected');
    expect((failed as PromiseRejectedResult).reason.code).toBe(5);
    expect(refused.status).toBe('rejected');
    const pause = (refused as PromiseRejectedResult).reason;
    expect(pause.code).toBe('Unavailable');
    expect(pause.retryable).toBe(true);
    expect(pause.message).toContain('ordering key "k" was paused');
    expect(other.status, 'the same key on another topic does not wait').toBe('fulfilled');
    // Resumed: the key publishes again, nothing hangs.
    await expect(driver.publish(topic, [message(4, 'k')])).resolves.toBeUndefined();
    await driver.deleteTopic({ topic });
  });
});
