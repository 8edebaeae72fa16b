// The RabbitMQ adapter as a BrokerTarget: Omnibus on amqp://, against raw amqplib on the same kind of queue.
import type { BrokerTarget, RawHandler, RawQueue } from './broker-target.ts';
import { type AdapterModule, load } from './broker-target.ts';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

type Amqplib = typeof import('amqplib');

/** Deletes queues, then exchanges, on a connection of its own (a missing one is no error). */
export async function deleteAmqpObjects(
  queues: readonly string[],
  exchanges: readonly string[],
): Promise<void> {
  const { connect } = await load<Amqplib>('amqplib');
  const connection = await connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

/** Names the raw sides use: a durable fanout exchange bound to a durable quorum queue. */
export function rawAmqpNames(runId: string): { exchange: string; queue: string } {
  return { exchange: `bench-${runId}-raw`, queue: `bench-${runId}-raw.kitchen` };
}

async function rawQueue(runId: string): Promise<RawQueue> {
  const { connect } = await load<Amqplib>('amqplib');
  const { exchange, queue } = rawAmqpNames(runId);
  const publishing = await connect(AMQP_URL);
  const publisher = await publishing.createConfirmChannel();
  await publisher.assertExchange(exchange, 'fanout', { durable: true });
  await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await publisher.bindQueue(queue, exchange, '');
  let consuming: Awaited<ReturnType<Amqplib['connect']>> | undefined;
  return {
    send(bodies) {
      // A confirm callback per message rather than waitForConfirms(), which waits for every
      // unconfirmed publish of the channel: called per message at a steady rate, each call would
      // wait on all the others (and hold a list of them).
      return new Promise<void>((resolve, reject) => {
        let remaining = bodies.length;
        if (remaining === 0) resolve();
        for (const body of bodies) {
          publisher.publish(
            exchange,
            '',
            body,
            { persistent: true, contentType: 'application/json' },
            (error: unknown) => {
              if (error) reject(error);
              else if (--remaining === 0) resolve();
            },
          );
        }
      });
    },
    async consume(concurrency: number, handler: RawHandler) {
      consuming = await connect(AMQP_URL);
      const channel = await consuming.createChannel();
      await channel.prefetch(concurrency);
      await channel.consume(queue, (message) => {
        if (message === null) return;
        const handled = handler(message.content);
        if (handled === undefined) channel.ack(message);
        else void handled.then(() => channel.ack(message));
      });
    },
    async close(remove) {
      await consuming?.close();
      if (remove) {
        await publisher.deleteQueue(queue);
        await publisher.deleteExchange(exchange);
      }
      await publishing.close();
    },
  };
}

export const rabbitmqTarget: BrokerTarget = {
  adapter: 'rabbitmq',
  external: true,
  source: { url: import.meta.url, exportName: 'rabbitmqTarget' },
  omnibus: {
    label: 'omnibus amqp://',
    async open(runId) {
      const { connect } = await load<typeof import('@omnibus/core')>('@omnibus/core');
      const { rabbitmq } = await load<AdapterModule<'rabbitmq'>>('@omnibus/rabbitmq');
      const prefix = `bench-${runId}-`;
      const bus = await connect(rabbitmq({ url: AMQP_URL }), { prefix });
      return {
        bus,
        async close(remove) {
          await bus.close();
          if (!remove) return;
          // The generic scenarios use topic `bench` and subscription `bench`.
          const topic = `${prefix}bench`;
          const queue = `${topic}.${prefix}bench`;
          await deleteAmqpObjects([queue, `${queue}.dlq`], [topic, `${topic}.dlx`]);
        },
      };
    },
  },
  raw: {
    label: 'amqplib: confirm channel, quorum queue, prefetch <concurrency>, ack each',
    open: rawQueue,
  },
};
