// Fault cases (connections cut, broker restarts, consumer_timeout, outages) on private RabbitMQ nodes only.
import { OmnibusError } from '@omnibus/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectBus,
  deferred,
  type PrivateRabbitMQ,
  privateNodes,
  startPrivateRabbitMQ,
  testPrefix,
  waitUntil,
} from './testing/broker-fixture.js';

/*
 * Every case here injects a fault, so it runs on a node this file started (its own ports, node name
 * and data directory) and stops only that node: the shared broker's connections are never touched.
 * `consumer_timeout` is set low (6 s) so a slow handler meets it within a test.
 */

const CONSUMER_TIMEOUT_MS = 6_000;

const node: PrivateRabbitMQ | undefined =
  privateNodes === true
    ? await startPrivateRabbitMQ({ consumerTimeoutMs: CONSUMER_TIMEOUT_MS })
    : undefined;
afterAll(async () => {
  await node?.stop();
}, 60_000);

describe.skipIf(node === undefined)(
  `rabbitmq faults (private node)${node === undefined ? `: ${privateNodes}` : ''}`,
  () => {
    it('survives close_all_connections with sends in flight: each resolves after its confirm or rejects Unavailable, and nothing confirmed is lost', async () => {
      const bus = await connectBus(testPrefix(), node!.url);
      try {
        const consumer = bus.consumer<number>('orders', 'kitchen', {
          concurrency: 20,
          retry: { initialDelayMs: 10, maxDelayMs: 50 },
        });
        await consumer.ready();
        const received = new Set<string>();
        await consumer.start((message) => {
          received.add(message.id);
        });
        const producer = bus.producer<number>('orders');
        const confirmed: string[] = [];
        const failures: OmnibusError[] = [];
        let sequence = 0;
        const sender = async (until: Promise<void>) => {
          let stop = false;
          void until.then(() => {
            stop = true;
          });
          while (!stop) {
            try {
              confirmed.push(await producer.send(sequence++));
            } catch (error) {
              if (!OmnibusError.isInstance(error)) throw error;
              failures.push(error);
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
        };
        const done = deferred();
        const senders = Promise.all([
          sender(done.promise),
          sender(done.promise),
          sender(done.promise),
        ]);
        await waitUntil(() => confirmed.length >= 50, '50 confirmed sends before the fault');
        const atFault = confirmed.length;
        await node!.closeConnections();
        await waitUntil(
          () => confirmed.length >= atFault + 100,
          '100 more confirmed sends after the fault',
        );
        done.resolve();
        await senders;
        for (const failure of failures) {
          expect(failure.code, failure.message).toBe('Unavailable');
          expect(failure.retryable).toBe(true);
        }
        await waitUntil(
          () => confirmed.every((id) => received.has(id)),
          'every confirmed message to be delivered',
        );
        await consumer.stop();
      } finally {
        await bus.close();
      }
    }, 60_000);
  },
);
