/**
 * Benchmarks of the RabbitMQ adapter, run by `npm run bench -- rabbitmq` (see packages/bench).
 *
 * Both sides do the same work on the same broker: 100-byte JSON bodies published persistent to a
 * fanout exchange bound to a durable quorum queue, publisher confirms awaited per batch of 500, and
 * a consumer with prefetch 100 that decodes each body and acks it, on a second connection. The
 * ratio is what Omnibus costs on top of amqplib (headers, validation, ids, leases, ack-once).
 */
import type { BenchBody, BenchModule, BenchScenario, BenchSide } from '@omnibus/bench';
import { jsonBodies, measure, reachable, sendInBatches } from '@omnibus/bench';
import { connect as amqpConnect } from 'amqplib';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const BODY_BYTES = 100;
const BATCH = 500;
const PREFETCH = 100;
/** The broker's port: each side's cost to the broker is measured too (its CPU time). */
const BROKER_PORT = Number(new URL(AMQP_URL).port || 5672);

export const available: BenchModule['available'] = () => {
  const url = new URL(AMQP_URL);
  return reachable(url.hostname, Number(url.port || 5672));
};

async function deleteObjects(
  queues: readonly string[],
  exchanges: readonly string[],
): Promise<void> {
  const connection = await amqpConnect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

async function loadOmnibus(): Promise<{
  core: typeof import('@omnibus/core');
  adapter: typeof import('@omnibus/rabbitmq');
}> {
  try {
    return { core: await import('@omnibus/core'), adapter: await import('@omnibus/rabbitmq') };
  } catch (error) {
    throw new Error('@omnibus/core or @omnibus/rabbitmq is not built: run `npm run build` first', {
      cause: error,
    });
  }
}

const omnibus: BenchSide = {
  label: `omnibus amqp://, sendBatch ×${BATCH}, concurrency ${PREFETCH}`,
  async run({ messages, runId }) {
    const { core, adapter } = await loadOmnibus();
    const bodies = jsonBodies(messages, BODY_BYTES);
    const prefix = `bench-${runId}-`;
    const bus = await core.connect(adapter.rabbitmq({ url: AMQP_URL }), { prefix });
    try {
      const consumer = bus.consumer<BenchBody>('orders', 'kitchen', { concurrency: PREFETCH });
      let handled = 0;
      let allHandled = () => {};
      const done = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      await consumer.start((message) => {
        if (message.body.pad.length === 0)
          throw new Error(`message ${message.body.seq} lost its padding`);
        handled++;
        if (handled === messages) allHandled();
      });
      const producer = bus.producer<BenchBody>('orders');
      const measurement = await measure(
        messages,
        async () => {
          await sendInBatches(producer, bodies, messages, BATCH);
          await done;
        },
        { brokerPort: BROKER_PORT },
      );
      await consumer.stop();
      if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
      return measurement;
    } finally {
      await bus.close();
      const topic = `${prefix}orders`;
      const queue = `${topic}.${prefix}kitchen`;
      await deleteObjects([queue, `${queue}.dlq`], [topic, `${topic}.dlx`]);
    }
  },
};

const rawAmqplib: BenchSide = {
  label: `amqplib: confirm channel, waitForConfirms per ${BATCH}, prefetch ${PREFETCH}, ack each`,
  async run({ messages, runId }) {
    const bodies = jsonBodies(messages, BODY_BYTES);
    const exchange = `bench-${runId}-raw`;
    const queue = `bench-${runId}-raw.kitchen`;
    const publishing = await amqpConnect(AMQP_URL);
    const consuming = await amqpConnect(AMQP_URL);
    try {
      const publisher = await publishing.createConfirmChannel();
      await publisher.assertExchange(exchange, 'fanout', { durable: true });
      await publisher.assertQueue(queue, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum' },
      });
      await publisher.bindQueue(queue, exchange, '');
      const consumer = await consuming.createChannel();
      await consumer.prefetch(PREFETCH);
      let handled = 0;
      let allHandled = () => {};
      const done = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      await consumer.consume(queue, (message) => {
        if (message === null) return;
        const body = JSON.parse(message.content.toString('utf8')) as BenchBody;
        if (body.pad.length === 0) throw new Error(`message ${body.seq} lost its padding`);
        consumer.ack(message);
        handled++;
        if (handled === messages) allHandled();
      });
      const measurement = await measure(
        messages,
        async () => {
          for (let start = 0; start < messages; start += BATCH) {
            const end = Math.min(start + BATCH, messages);
            for (let index = start; index < end; index++) {
              publisher.publish(exchange, '', Buffer.from(JSON.stringify(bodies[index]), 'utf8'), {
                persistent: true,
                contentType: 'application/json',
              });
            }
            await publisher.waitForConfirms();
          }
          await done;
        },
        { brokerPort: BROKER_PORT },
      );
      if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
      await publisher.deleteQueue(queue);
      await publisher.deleteExchange(exchange);
      return measurement;
    } finally {
      await consuming.close();
      await publishing.close();
    }
  },
};

export const scenarios: BenchScenario[] = [
  {
    name: 'rabbitmq/e2e-send-handle-ack',
    description: `send → handler → ack, ${BODY_BYTES}-byte JSON, persistent, quorum queue, confirms per ${BATCH}, prefetch ${PREFETCH}`,
    messages: 20_000,
    warmupMessages: 2_000,
    omnibus,
    baseline: rawAmqplib,
    targets: { ratio: 0.95 },
  },
];
