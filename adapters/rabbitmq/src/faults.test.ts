// Fault cases (connections cut, broker restarts, consumer_timeout, outages) on private RabbitMQ nodes only.
import { OmnibusError } from '@omnibus/core';
import type { OutgoingMessage } from '@omnibus/core/driver';
import { afterAll, describe, expect, it } from 'vitest';
import { rabbitmq } from './index.js';
import {
  connectBus,
  deferred,
  type PrivateRabbitMQ,
  privateNodeControl,
  privateNodes,
  rejectionOf,
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

/** `rabbitmqctl` on the private node only, by its node name. */
const controlNode = node === undefined ? undefined : await privateNodeControl(node);
// RabbitMQ 3.10 checks consumer_timeout on each channel tick, every 60 s by default: check every
// second instead, so a timeout fires about consumer_timeout after the delivery (channels opened
// from now on read it).
await controlNode?.('eval', 'application:set_env(rabbit, channel_tick_interval, 1000).');

/** The private node's OS process, to freeze it (SIGSTOP): connections stay open, nothing answers. */
async function nodePid(): Promise<number> {
  return Number(/(\d+)/.exec(await controlNode!('eval', 'os:getpid().'))?.[1]);
}

/** Slack over operationTimeoutMs the conformance suite allows too. */
const SLACK_MS = 1_500;

function outgoing(body: string): OutgoingMessage {
  return {
    id: `m-${body}-${Date.now()}`,
    body: Buffer.from(JSON.stringify(body)),
    attributes: {},
    contentType: 'application/json',
    publishedAt: Date.now(),
  };
}

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

    it('during an outage a driver publish and a user send each reject within operationTimeoutMs (core retries included), and both recover after', async () => {
      const operationTimeoutMs = 2_000;
      const driver = rabbitmq({ url: node!.url, operationTimeoutMs });
      const prefix = testPrefix();
      const topic = `${prefix}orders`;
      const bus = await connectBus(prefix, node!.url, { operationTimeoutMs });
      const producer = bus.producer<string>('orders');
      try {
        await driver.ensureTopic({ topic });
        await driver.publish(topic, [outgoing('before')]);
        await producer.send('before');
        await controlNode!('stop_app');
        try {
          for (const [what, call] of [
            ['driver.publish', () => driver.publish(topic, [outgoing('during')])],
            ['producer.send', () => producer.send('during')],
          ] as const) {
            const startedAt = Date.now();
            const error = (await rejectionOf(call())) as OmnibusError;
            const elapsedMs = Date.now() - startedAt;
            expect(OmnibusError.isInstance(error), `${what}: ${String(error)}`).toBe(true);
            expect(['Unavailable', 'Timeout'], `${what}: ${error.message}`).toContain(error.code);
            expect(error.retryable, what).toBe(true);
            expect(elapsedMs, what).toBeLessThan(operationTimeoutMs + SLACK_MS);
          }
        } finally {
          await controlNode!('start_app');
        }
        await waitUntil(
          () =>
            Promise.all([driver.publish(topic, [outgoing('after')]), producer.send('after')]).then(
              () => true,
              () => false,
            ),
          'a publish and a send to succeed after the outage',
          30_000,
        );
      } finally {
        await bus.close();
        await driver.close();
      }
    }, 60_000);

    it('a publish to a broker that stopped answering (frozen process, connection still open) rejects within operationTimeoutMs: the confirm wait is bounded', async () => {
      const operationTimeoutMs = 2_000;
      const driver = rabbitmq({ url: node!.url, operationTimeoutMs, heartbeatSeconds: 60 });
      const topic = `${testPrefix()}orders`;
      const pid = await nodePid();
      try {
        await driver.ensureTopic({ topic });
        await driver.publish(topic, [outgoing('before')]);
        process.kill(pid, 'SIGSTOP');
        try {
          const startedAt = Date.now();
          const error = (await rejectionOf(
            driver.publish(topic, [outgoing('frozen')]),
          )) as OmnibusError;
          const elapsedMs = Date.now() - startedAt;
          expect(OmnibusError.isInstance(error), String(error)).toBe(true);
          expect(error.code, error.message).toBe('Unavailable');
          expect(error.retryable).toBe(true);
          expect(elapsedMs).toBeLessThan(operationTimeoutMs + SLACK_MS);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      } finally {
        await driver.close();
      }
    }, 60_000);

    it('concurrency 1, a handler slower than consumer_timeout: the redelivery waits on the broker, not behind the busy slot, and the message is handled, never dead-lettered', async () => {
      const prefix = testPrefix();
      const bus = await connectBus(prefix, node!.url);
      const queue = `${prefix}orders.${prefix}kitchen`;
      /** Channel pids of the consumers on the subscription queue, as the broker lists them. */
      const consumerChannels = async () =>
        (
          await controlNode!(
            'list_consumers',
            '--quiet',
            '--no-table-headers',
            'queue_name',
            'channel_pid',
          )
        )
          .split('\n')
          .map((line) => line.split('\t'))
          .filter(([name]) => name === queue)
          .map(([, channel]) => channel!);
      try {
        const consumer = bus.consumer<string>('orders', 'kitchen', {
          concurrency: 1,
          maxAttempts: 2,
        });
        await consumer.ready();
        const attempts: number[] = [];
        const handled = deferred();
        let first = true;
        let timedOut: string | undefined;
        // The consumer channels before anything is delivered: one of them will hold the delivery.
        // Read now, not inside the handler, where a slow rabbitmqctl (a loaded machine) could
        // answer after consumer_timeout already replaced the holder and name the new channel.
        let before: string[] = [];
        await consumer.start(async (message) => {
          attempts.push(message.attempt);
          if (!first) {
            handled.resolve();
            return;
          }
          first = false;
          // The broker closes the channel of a delivery unacked past consumer_timeout.
          await waitUntil(
            async () => {
              const now = await consumerChannels();
              timedOut = before.find((channel) => !now.includes(channel));
              return timedOut !== undefined;
            },
            'consumer_timeout to close the consumer channel',
            4 * CONSUMER_TIMEOUT_MS,
          );
          // Still busy for another consumer_timeout and its check interval: a redelivery buffered
          // behind this slot would time out too (one more attempt burnt, here the last one). Only
          // time can show that nothing happens, so this wait is bounded by time, and ends early if
          // any consumer channel is closed again.
          const others = await consumerChannels();
          await waitUntil(
            async () => {
              const now = await consumerChannels();
              return others.some((channel) => !now.includes(channel));
            },
            'a second consumer_timeout',
            2 * CONSUMER_TIMEOUT_MS,
          ).catch(() => undefined);
        });
        await waitUntil(
          async () => {
            before = await consumerChannels();
            return before.length > 0;
          },
          'the consumer to be registered on the broker',
          4 * CONSUMER_TIMEOUT_MS,
        );
        const id = await bus.producer<string>('orders').send('slow');
        const dlq = bus.deadLetters<string>('orders', 'kitchen');
        let handledAgain = false;
        void handled.promise.then(() => {
          handledAgain = true;
        });
        await waitUntil(
          async () => handledAgain || (await dlq.count()) > 0,
          'the second delivery to be handled (or the message to be dead-lettered)',
          8 * CONSUMER_TIMEOUT_MS,
        );
        expect(timedOut).toBeDefined();
        expect(await dlq.peek(), 'dead letters').toEqual([]);
        expect(attempts, 'one timed-out attempt, then one that succeeds').toEqual([1, 2]);
        await consumer.stop();
        const stats = await consumer.stats();
        expect(stats.waiting, `message ${id} acked`).toBe(0);
      } finally {
        await bus.close();
      }
    }, 120_000);
  },
);
