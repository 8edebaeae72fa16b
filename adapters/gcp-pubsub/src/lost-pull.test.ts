// A pull whose answer never reaches the client holds its messages for the subscription's ack deadline: 10 s, not the consumer's lease.
import { type Bus, connect } from '@omnibus/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from './clients.js';
import { gcpPubSub } from './gcp-pubsub.js';
import { EMULATOR_HOST, emulatorUnavailable, PROJECT_ID } from './testing/emulator.js';

const unavailable = await emulatorUnavailable();
const prefix = `lp${Date.now().toString(36)}-`;

describe.skipIf(unavailable !== undefined)('a pull answer the client never saw', () => {
  const driver = gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
  let bus: Bus;
  beforeAll(async () => {
    bus = await connect(driver, { prefix });
  });
  afterAll(async () => {
    await bus.deleteSubscription('orders', 'kitchen').catch(() => undefined);
    await bus.deleteTopic('orders').catch(() => undefined);
    await bus.close();
  });

  it('is redelivered after the 10 s minimum ack deadline even when the consumer leases for 10 minutes', async () => {
    // A consumer with a 10-minute lease: before, the subscription took that as its ack deadline.
    const options = { ackDeadlineMs: 600_000, concurrency: 1 };
    const consumer = bus.consumer<string>('orders', 'kitchen', options);
    await consumer.ready();
    const clients = createClients(PROJECT_ID, { apiEndpoint: EMULATOR_HOST }, 10_000, 'test');
    const { subscriber } = clients;
    const subscription = `projects/${PROJECT_ID}/subscriptions/${prefix}orders.${prefix}kitchen`;
    try {
      const [resource] = await subscriber.getSubscription({ subscription });
      expect(resource.ackDeadlineSeconds).toBe(10);
      const id = await bus.producer<string>('orders').send('lost in transit');
      // The pull whose answer is lost: another client takes the message and never settles it.
      let taken = 0;
      while (taken === 0) {
        const [answer] = await subscriber.pull({ subscription, maxMessages: 10 });
        taken = answer.receivedMessages?.length ?? 0;
      }
      const takenAt = Date.now();
      const received = new Promise<{ id: string; at: number }>((resolve) => {
        void consumer.start(async (message) => resolve({ id: message.id, at: Date.now() }));
      });
      const redelivered = await received;
      expect(redelivered.id).toBe(id);
      // Bounded by the subscription's 10 s, far below the consumer's 600 s lease.
      expect(redelivered.at - takenAt).toBeLessThan(60_000);
      await consumer.stop();
    } finally {
      await clients.close();
    }
  }, 90_000);
});
