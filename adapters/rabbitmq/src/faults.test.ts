// Fault cases (connections cut, broker restarts, consumer_timeout, outages) on private RabbitMQ nodes only.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OmnibusError } from '@omnibus/core';
import type { OutgoingMessage } from '@omnibus/core/driver';
import { afterAll, describe, expect, it } from 'vitest';
import { rabbitmq } from './index.js';
import {
  connectBus,
  deferred,
  type PrivateRabbitMQ,
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

const run = promisify(execFile);

/** `rabbitmqctl` on the private node only, by its node name. */
async function controlNode(...args: string[]): Promise<string> {
  return (await run('rabbitmqctl', ['-n', node!.nodeName, ...args], { timeout: 60_000 })).stdout;
}

/** The private node's OS process, to freeze it (SIGSTOP): connections stay open, nothing answers. */
async function nodePid(): Promise<number> {
  return Number(/(\d+)/.exec(await controlNode('eval', 'os:getpid().'))?.[1]);
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

    it('a publish during an outage rejects Unavailable, retryable, within operationTimeoutMs; the driver recovers after', async () => {
      const operationTimeoutMs = 2_000;
      const driver = rabbitmq({ url: node!.url, operationTimeoutMs });
      const topic = `${testPrefix()}orders`;
      try {
        await driver.ensureTopic(topic);
        await driver.publish(topic, [outgoing('before')]);
        await controlNode('stop_app');
        try {
          const startedAt = Date.now();
          const error = (await rejectionOf(
            driver.publish(topic, [outgoing('during')]),
          )) as OmnibusError;
          const elapsedMs = Date.now() - startedAt;
          expect(OmnibusError.isInstance(error), String(error)).toBe(true);
          expect(error.code, error.message).toBe('Unavailable');
          expect(error.retryable).toBe(true);
          expect(elapsedMs).toBeLessThan(operationTimeoutMs + SLACK_MS);
        } finally {
          await controlNode('start_app');
        }
        await waitUntil(
          () =>
            driver.publish(topic, [outgoing('after')]).then(
              () => true,
              () => false,
            ),
          'a publish to succeed after the outage',
          30_000,
        );
      } finally {
        await driver.close();
      }
    }, 60_000);

    it('a publish to a broker that stopped answering (frozen process, connection still open) rejects within operationTimeoutMs: the confirm wait is bounded', async () => {
      const operationTimeoutMs = 2_000;
      const driver = rabbitmq({ url: node!.url, operationTimeoutMs, heartbeatSeconds: 60 });
      const topic = `${testPrefix()}orders`;
      const pid = await nodePid();
      try {
        await driver.ensureTopic(topic);
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
  },
);
