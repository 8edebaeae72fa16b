/**
 * Benchmarks of the Pub/Sub adapter on the emulator, run by `npm run bench -- gcp-pubsub` (see
 * packages/bench).
 *
 * Both sides do the same work on the same emulator: 100-byte JSON bodies published in batches of
 * 1,000 to a topic with one subscription, and a consumer that decodes each body and acks it, up
 * to 1,000 messages outstanding. The baseline is `@google-cloud/pubsub` as its docs show it:
 * `topic.publishMessage` with batching of 1,000 and `subscription.on('message')` (streaming pull,
 * the library's lease manager, flow control of 1,000). Omnibus pulls with unary `pull` and leaves
 * leases to core. The ratio is what Omnibus costs on top of the raw client (ids, attributes,
 * validation, leases, ack-once), and whether unary pull keeps up with streaming pull.
 */
import { PubSub } from '@google-cloud/pubsub';
import type { BenchBody, BenchModule, BenchScenario, BenchSide } from '@omnibus/bench';
import { jsonBodies, measure, reachable, sendInBatches } from '@omnibus/bench';

const EMULATOR_HOST = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
const PROJECT_ID = 'omnibus-bench';
const BODY_BYTES = 100;
const BATCH = 1_000;
const OUTSTANDING = 1_000;

process.env.METADATA_SERVER_DETECTION ??= 'none';

export const available: BenchModule['available'] = () => {
  const [host = '127.0.0.1', port = '8085'] = EMULATOR_HOST.split(':');
  return reachable(host, Number(port));
};

async function loadOmnibus(): Promise<{
  core: typeof import('@omnibus/core');
  adapter: typeof import('@omnibus/gcp-pubsub');
}> {
  try {
    return { core: await import('@omnibus/core'), adapter: await import('@omnibus/gcp-pubsub') };
  } catch (error) {
    throw new Error(
      '@omnibus/core or @omnibus/gcp-pubsub is not built: run `npm run build` first',
      {
        cause: error,
      },
    );
  }
}

/** Deletes what the Omnibus side created: the topic, the subscription, the DLQ topic and its reader. */
async function deleteOmnibusObjects(prefix: string): Promise<void> {
  const pubsub = new PubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
  const topic = `${prefix}orders`;
  const subscription = `${topic}.${prefix}kitchen`;
  try {
    await Promise.allSettled([
      pubsub.subscription(subscription).delete(),
      pubsub.subscription(`${subscription}.dlq`).delete(),
    ]);
    await Promise.allSettled([
      pubsub.topic(topic).delete(),
      pubsub.topic(`${subscription}.dlq`).delete(),
    ]);
  } finally {
    await pubsub.close();
  }
}

const omnibus: BenchSide = {
  label: `omnibus gcppubsub://, sendBatch ×${BATCH}, concurrency ${OUTSTANDING}, unary pull`,
  async run({ messages, runId }) {
    const { core, adapter } = await loadOmnibus();
    const bodies = jsonBodies(messages, BODY_BYTES);
    const prefix = `bench-${runId}-`;
    const bus = await core.connect(
      adapter.gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST }),
      { prefix },
    );
    try {
      const consumer = bus.consumer<BenchBody>('orders', 'kitchen', {
        concurrency: OUTSTANDING,
        ordering: false,
      });
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
      const measurement = await measure(messages, async () => {
        await sendInBatches(producer, bodies, messages, BATCH);
        await done;
      });
      await consumer.stop();
      if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
      return measurement;
    } finally {
      await bus.close();
      await deleteOmnibusObjects(prefix);
    }
  },
};

const rawClient: BenchSide = {
  label: `@google-cloud/pubsub: publishMessage batching ${BATCH}, streaming pull, flow control ${OUTSTANDING}, ack each`,
  async run({ messages, runId }) {
    const bodies = jsonBodies(messages, BODY_BYTES);
    const pubsub = new PubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
    const [topic] = await pubsub.createTopic(`bench-${runId}-raw`);
    const [subscription] = await topic.createSubscription(`bench-${runId}-raw.kitchen`, {
      flowControl: { maxMessages: OUTSTANDING },
    });
    const publisher = pubsub.topic(topic.name, {
      batching: { maxMessages: BATCH, maxMilliseconds: 10 },
    });
    try {
      let handled = 0;
      let allHandled = () => {};
      const done = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      subscription.on('error', (error) => {
        throw error;
      });
      subscription.on('message', (message) => {
        const body = JSON.parse(message.data.toString('utf8')) as BenchBody;
        if (body.pad.length === 0) throw new Error(`message ${body.seq} lost its padding`);
        message.ack();
        handled++;
        if (handled === messages) allHandled();
      });
      const measurement = await measure(messages, async () => {
        for (let start = 0; start < messages; start += BATCH) {
          const end = Math.min(start + BATCH, messages);
          const sends: Promise<string>[] = [];
          for (let index = start; index < end; index++) {
            sends.push(
              publisher.publishMessage({
                data: Buffer.from(JSON.stringify(bodies[index]), 'utf8'),
                attributes: { 'content-type': 'application/json' },
              }),
            );
          }
          await Promise.all(sends);
        }
        await done;
      });
      if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
      await subscription.close();
      await subscription.delete();
      await topic.delete();
      return measurement;
    } finally {
      await pubsub.close();
    }
  },
};

export const scenarios: BenchScenario[] = [
  {
    name: 'gcp-pubsub/e2e-send-handle-ack',
    description: `send → handler → ack on the emulator, ${BODY_BYTES}-byte JSON, batches of ${BATCH}, ${OUTSTANDING} outstanding`,
    messages: 20_000,
    warmupMessages: 2_000,
    omnibus,
    baseline: rawClient,
    targets: { ratio: 0.95 },
  },
];
