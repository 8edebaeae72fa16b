// The Pub/Sub adapter as a BrokerTarget: Omnibus on gcppubsub:// against raw @google-cloud/pubsub, both on the emulator.
import type { BrokerTarget, RawHandler, RawQueue } from './broker-target.ts';
import { load } from './broker-target.ts';

const EMULATOR_HOST = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
const PROJECT_ID = 'omnibus-bench';

process.env.METADATA_SERVER_DETECTION ??= 'none';

type PubSubModule = typeof import('@google-cloud/pubsub');

/** Omnibus's name prefix for a run: a letter first, letters and digits, short enough for every name. */
function prefixOf(runId: string): string {
  return `b${runId.replaceAll('-', '').slice(0, 20)}-`;
}

/** Deletes subscriptions and topics by name, ignoring the ones already gone. */
async function deleteAll(
  subscriptions: readonly string[],
  topics: readonly string[],
): Promise<void> {
  const { PubSub } = await load<PubSubModule>('@google-cloud/pubsub');
  const pubsub = new PubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
  try {
    await Promise.allSettled(subscriptions.map((name) => pubsub.subscription(name).delete()));
    await Promise.allSettled(topics.map((name) => pubsub.topic(name).delete()));
  } finally {
    await pubsub.close();
  }
}

async function rawTopic(runId: string): Promise<RawQueue> {
  const { PubSub } = await load<PubSubModule>('@google-cloud/pubsub');
  const pubsub = new PubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
  const topicName = `bench-raw-${runId}`;
  const subscriptionName = `${topicName}.bench`;
  // Idempotent: the backlog's filler process opens the same names.
  await pubsub.createTopic(topicName).catch((error: { code?: number }) => {
    if (error.code !== 6) throw error;
  });
  await pubsub
    .topic(topicName)
    .createSubscription(subscriptionName)
    .catch((error: { code?: number }) => {
      if (error.code !== 6) throw error;
    });
  // Tuned as an expert would for these scenarios: the client's defaults hold a publish up to 10 ms
  // and an ack 100 ms, and it frees a flow-control slot only once the ack is flushed, so with
  // `flowControl.maxMessages: 20` it can't pass ~200 acks/s. Omnibus sends and acks what a tick
  // produced at once; the raw side waits at most 1 ms for company.
  const topic = pubsub.topic(topicName, { batching: { maxMessages: 1_000, maxMilliseconds: 1 } });
  let subscription: ReturnType<typeof pubsub.subscription> | undefined;
  return {
    async send(bodies) {
      await Promise.all(bodies.map((data) => topic.publishMessage({ data })));
    },
    async consume(concurrency: number, handler: RawHandler) {
      subscription = pubsub.subscription(subscriptionName, {
        flowControl: { maxMessages: concurrency },
        batching: { maxMessages: 1_000, maxMilliseconds: 1 },
      });
      subscription.on('error', (error) => {
        throw error;
      });
      subscription.on('message', (message) => {
        void Promise.resolve(handler(message.data)).then(() => message.ack());
      });
    },
    async close(remove) {
      await subscription?.close();
      if (remove) {
        await pubsub
          .subscription(subscriptionName)
          .delete()
          .catch(() => undefined);
        await pubsub
          .topic(topicName)
          .delete()
          .catch(() => undefined);
      }
      await pubsub.close();
    },
  };
}

export const gcpPubSubTarget: BrokerTarget = {
  adapter: 'gcp-pubsub',
  external: true,
  source: { url: import.meta.url, exportName: 'gcpPubSubTarget' },
  omnibus: {
    label: 'omnibus gcppubsub:// (emulator)',
    async open(runId) {
      const { connect } = await load<typeof import('@omnibus/core')>('@omnibus/core');
      const prefix = prefixOf(runId);
      // By URL, so this package needn't type the adapter's module (see AdapterModule).
      const bus = await connect(`gcppubsub://${PROJECT_ID}?apiEndpoint=${EMULATOR_HOST}`, {
        prefix,
      });
      return {
        bus,
        async close(remove) {
          await bus.close();
          if (remove) {
            const topic = `${prefix}bench`;
            const subscription = `${topic}.${prefix}bench`;
            await deleteAll([subscription, `${subscription}.dlq`], [topic, `${subscription}.dlq`]);
          }
        },
      };
    },
  },
  raw: {
    label:
      '@google-cloud/pubsub: publishMessage and ack batching ≤ 1 ms, streaming pull, flow control <concurrency>, ack each',
    open: rawTopic,
  },
};
