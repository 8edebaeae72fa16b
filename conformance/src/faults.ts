import type { Producer } from '@omnibus/core';
import { OmnibusError } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, type Suite, within } from './helpers.js';

/** Sends, retrying only what the error says may succeed if tried again, until `timeoutMs`. */
async function sendThroughOutage<T>(
  producer: Producer<T>,
  body: T,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await producer.send(body);
    } catch (error) {
      const retryable =
        OmnibusError.isInstance(error) &&
        (error.retryable || error.code === 'Unavailable' || error.code === 'Timeout');
      if (!retryable || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Consumers that go away mid-message, and brokers that restart. */
export function registerFaultTests(suite: Suite): void {
  describe('faults', () => {
    /*
     * A crashed consumer, as far as the public API can make one. A process that dies stops renewing
     * its leases and the broker redelivers after the lease; core renews every unsettled lease while
     * a bus is open, so that exact case needs a real process kill (adapter-specific tests). Here the
     * consumer holds a message unsettled and its bus closes (shutdownTimeoutMs 100); the lease is far
     * longer than the wait, so only the release on close can explain the redelivery. For adapters with
     * leaseExtension 'none' (RabbitMQ) closing the connection is exactly how a crash looks to the broker.
     */
    suite.test(
      'a consumer that goes away holding a message: another gets it, attempt 2, long before the lease ends',
      async (t) => {
        const { minMs, maxMs } = t.capabilities.ackDeadline;
        const lease = Math.max(minMs, Math.min(maxMs, t.timeoutMs * 4));
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const crashing = await t.connect();
        const options = consumerOptions<string>({
          concurrency: 1,
          ackDeadlineMs: lease,
          shutdownTimeoutMs: 100,
        });
        const holder = crashing.consumer<string>(topic, subscription, options);
        const survivor = t.bus.consumer<string>(topic, subscription, options);
        await Promise.all([holder.ready(), survivor.ready()]);
        const id = await t.bus.producer<string>(topic).send('orphaned');
        const taken = (await holder.messages().next()).value!;
        expect(taken.id).toBe(id);
        t.expectAttempts([taken.attempt], [1], 'the first delivery');
        const inbox = t.inbox<string>();
        await t.consume(survivor, inbox);
        const goneAt = Date.now();
        await within(crashing.close(), t.timeoutMs, 'closing the bus that holds the message');
        await inbox.waitForIds([id]);
        const again = inbox.of(id)[0]!;
        t.expectAttempts([again.attempt], [2], 'the delivery after the holder went away');
        expect(again.body).toBe('orphaned');
        expect(again.receivedAt - goneAt).toBeLessThan(lease);
      },
    );

    suite.test(
      'carries on after a broker restart',
      async (t) => {
        t.requiresHook(t.harness.restartBroker !== undefined, 'restartBroker');
        const topic = t.name('topic');
        const consumer = t.bus.consumer<string>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const producer = t.bus.producer<string>(topic);
        const inbox = t.inbox<string>();
        await t.consume(consumer, inbox);
        const before = await producer.send('before restart');
        await inbox.waitForIds([before]);
        await t.harness.restartBroker!();
        const after = await sendThroughOutage(producer, 'after restart', t.timeoutMs);
        await inbox.waitForIds([after], 'the message sent after the restart');
        const later = await sendThroughOutage(producer, 'later still', t.timeoutMs);
        await inbox.waitForIds([later], 'a later message');
      },
      30_000,
    );
  });
}
