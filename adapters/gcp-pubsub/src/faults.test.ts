// The driver rides out a cut connection (every gRPC channel dropped, the endpoint refusing for a while).
import { connect } from '@omnibus/core';
import { waitUntil } from '@omnibus/test-brokers';
import { afterAll, describe, expect, it } from 'vitest';
import { gcpPubSub } from './gcp-pubsub.js';
import { type CuttingProxy, startCuttingProxy } from './testing/cutting-proxy.js';
import { EMULATOR_HOST, emulatorUnavailable, PROJECT_ID } from './testing/emulator.js';

const unavailable = await emulatorUnavailable();

describe.skipIf(unavailable !== undefined)('faults', () => {
  let proxy: CuttingProxy | undefined;
  afterAll(() => proxy?.close());

  it('carries on after every connection to Pub/Sub was cut and refused for a second', async () => {
    proxy = await startCuttingProxy(EMULATOR_HOST);
    const prefix = `cut${Date.now().toString(36)}-`;
    const bus = await connect(
      gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: proxy.endpoint, operationTimeoutMs: 5_000 }),
      { prefix },
    );
    const errors: string[] = [];
    try {
      const consumer = bus.consumer<string>('orders', 'kitchen', {
        retry: { initialDelayMs: 10, maxDelayMs: 100 },
        // A pull cut mid-way may still have taken a message on the emulator's side (it ignores
        // cancellation): the shortest lease brings it back soonest.
        ackDeadlineMs: 10_000,
        // Pulls fail Unavailable while the endpoint refuses: expected here, counted, not printed.
        onError: (error) => {
          errors.push(error.code);
        },
        shutdownTimeoutMs: 2_000,
      });
      const seen: string[] = [];
      await consumer.start((message) => {
        seen.push(message.body);
      });
      const producer = bus.producer<string>('orders');
      await producer.send('before the cut');
      await waitUntil(
        () => seen.includes('before the cut'),
        'the message sent before the cut',
        15_000,
      );
      await proxy.cut(1_000);
      // core retries the send while the channel reconnects, within operationTimeoutMs.
      await producer.send('after the cut');
      await waitUntil(
        () => seen.includes('after the cut'),
        'the message sent after the cut',
        30_000,
      );
      expect(seen).toContain('after the cut');
      expect(
        errors.every((code) => code === 'Unavailable' || code === 'Timeout'),
        errors.join(),
      ).toBe(true);
      await consumer.stop();
      await bus.deleteSubscription('orders', 'kitchen');
      await bus.deleteTopic('orders');
    } finally {
      await bus.close();
    }
  }, 60_000);
});
