// A maintained RabbitMQ peer on the same broker: Omnibus against amqp-connection-manager doing the same end-to-end work.
import type { BrokerTarget } from './broker-target.ts';
import { load } from './broker-target.ts';
import { type BenchBody, jsonBodies } from './json-bodies.ts';
import { measure } from './measure.ts';
import { AMQP_URL, rawAmqpNames } from './rabbitmq-target.ts';

/** The broker's port: each side's cost to the broker is measured too (its CPU time). */
const BROKER_PORT = Number(new URL(AMQP_URL).port || 5672);

import type { BenchScenario, BenchSide } from './scenario.ts';
import { sendInBatches } from './send-in-batches.ts';

const BODY_BYTES = 100;
const BATCH = 500;
const PREFETCH = 100;

function countdown(count: number): { tick(): void; done: Promise<void> } {
  let left = count;
  let resolve = () => {};
  const done = new Promise<void>((fulfil) => {
    resolve = fulfil;
  });
  return {
    tick() {
      left--;
      if (left === 0) resolve();
    },
    done,
  };
}

/** The Omnibus side of the peer comparison: the same work as `rabbitmq/e2e-send-handle-ack`. */
function omnibusSide(target: BrokerTarget): BenchSide {
  return {
    label: `${target.omnibus.label}, sendBatch ×${BATCH}, concurrency ${PREFETCH}`,
    async run({ messages, runId }) {
      const bodies = jsonBodies(messages, BODY_BYTES);
      const { bus, close } = await target.omnibus.open(runId);
      try {
        const consumer = bus.consumer<BenchBody>('bench', 'bench', { concurrency: PREFETCH });
        const progress = countdown(messages);
        await consumer.start((message) => {
          if (message.body.pad.length === 0)
            throw new Error(`message ${message.body.seq} lost its padding`);
          progress.tick();
        });
        const producer = bus.producer<BenchBody>('bench');
        const measurement = await measure(
          messages,
          async () => {
            await sendInBatches(producer, bodies, messages, BATCH);
            await progress.done;
          },
          { brokerPort: BROKER_PORT },
        );
        await consumer.stop();
        return measurement;
      } finally {
        await close(true);
      }
    },
  };
}

/**
 * amqp-connection-manager 5 as its README shows it: a ChannelWrapper on a confirm channel whose
 * `setup` declares the topology, `publish()` resolving on the broker's confirm (awaited per batch),
 * and `consume()` with a prefetch, acking each message.
 */
const amqpConnectionManager: BenchSide = {
  label: `amqp-connection-manager 5: ChannelWrapper publish (confirms per ${BATCH}), consume prefetch ${PREFETCH}, ack each`,
  async run({ messages, runId }) {
    const manager = await load<typeof import('amqp-connection-manager')>('amqp-connection-manager');
    const bodies = jsonBodies(messages, BODY_BYTES);
    const { exchange, queue } = rawAmqpNames(runId);
    const publishing = manager.connect(AMQP_URL);
    const consuming = manager.connect(AMQP_URL);
    const setup = async (channel: import('amqplib').Channel) => {
      await channel.assertExchange(exchange, 'fanout', { durable: true });
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(queue, exchange, '');
    };
    const publisher = publishing.createChannel({ confirm: true, setup });
    const consumer = consuming.createChannel({ setup });
    try {
      await publisher.waitForConnect();
      await consumer.waitForConnect();
      const progress = countdown(messages);
      await consumer.consume(
        queue,
        (message) => {
          const body = JSON.parse(message.content.toString('utf8')) as BenchBody;
          if (body.pad.length === 0) throw new Error(`message ${body.seq} lost its padding`);
          consumer.ack(message);
          progress.tick();
        },
        { prefetch: PREFETCH },
      );
      const measurement = await measure(
        messages,
        async () => {
          for (let start = 0; start < messages; start += BATCH) {
            const end = Math.min(start + BATCH, messages);
            const confirms: Promise<boolean>[] = [];
            for (let index = start; index < end; index++) {
              confirms.push(
                publisher.publish(
                  exchange,
                  '',
                  Buffer.from(JSON.stringify(bodies[index]), 'utf8'),
                  {
                    persistent: true,
                    contentType: 'application/json',
                  },
                ),
              );
            }
            await Promise.all(confirms);
          }
          await progress.done;
        },
        { brokerPort: BROKER_PORT },
      );
      await consumer.cancelAll();
      await publisher.deleteQueue(queue);
      await publisher.deleteExchange(exchange);
      return measurement;
    } finally {
      await consumer.close();
      await publisher.close();
      await consuming.close();
      await publishing.close();
    }
  },
};

/** `rabbitmq/e2e-vs-amqp-connection-manager`: Omnibus against the peer on the same broker. */
export function rabbitmqPeerScenario(target: BrokerTarget): BenchScenario {
  return {
    name: `${target.adapter}/e2e-vs-amqp-connection-manager`,
    description: `send → handler → ack, ${BODY_BYTES}-byte JSON, persistent, quorum queue, confirms per ${BATCH}, prefetch ${PREFETCH}: Omnibus against amqp-connection-manager`,
    messages: 20_000,
    warmupMessages: 2_000,
    omnibus: omnibusSide(target),
    baseline: amqpConnectionManager,
    targets: { ratio: 1 },
  };
}
