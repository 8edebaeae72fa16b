/**
 * Benchmarks of the SQS adapter, run by `npm run bench -- sqs` (see the README).
 *
 * Each side runs against its own fauxqs (the fast SQS + SNS emulator) started in a child process
 * on a free port, so nothing has to be running beforehand and the emulator's CPU isn't charged to
 * the measured event loop. Every side does the same end-to-end work: 100-byte JSON bodies sent in
 * batches of 10 by several concurrent senders, received 10 at a time by several long-polling
 * pollers, handed to an async handler, and deleted; the clock stops when the last message was
 * confirmed deleted. An SDK middleware on every client counts the API calls made inside the timed
 * section (reported per 1,000 messages).
 *
 * - `sqs/e2e-queue-vs-raw-sdk`: Omnibus in queue mode against raw `@aws-sdk/client-sqs`
 *   (SendMessageBatch, ReceiveMessage ×pollers, DeleteMessageBatch). The ratio is what Omnibus
 *   costs on top of SQS.
 * - `sqs/e2e-fanout-vs-raw-sdk`: Omnibus in fan-out mode (SNS topic → SQS queue, raw delivery)
 *   against the raw SDKs doing the same (SNS PublishBatch → SQS).
 * - `sqs/e2e-queue-vs-raw-sdk-same-wire`: the same, with the raw side also sending the one
 *   `omnibus` JSON attribute Omnibus puts on every message, so the gap left is Omnibus's code.
 * - `sqs/e2e-vs-sqs-consumer`: Omnibus in queue mode against bbc/sqs-consumer (one `Consumer`
 *   per poller, `batchSize` 10, `handleMessage`), the usual SQS consumer library, as a peer figure.
 * - `sqs/latency` and `sqs/backlog-memory`: the generic scenarios over {@link sqsTarget}.
 */
import { randomUUID } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { backlogScenario } from './backlog.ts';
import type { BenchBody } from './json-bodies.ts';
import { jsonBodies } from './json-bodies.ts';
import { latencyScenario } from './latency.ts';
import { measure } from './measure.ts';
import type { BenchModule, BenchScenario, BenchSide, Measurement } from './scenario.ts';
import { CallCounter } from './sqs-call-counter.ts';
import { fauxqs, fauxqsSupported } from './sqs-fauxqs.ts';
import { CREDENTIALS, pollAndDelete, REGION, SYSTEM_ATTRIBUTES, WAIT_SECONDS } from './sqs-raw.ts';
import { sqsTarget } from './sqs-target.ts';

const MESSAGES = 20_000;
const BODY_BYTES = 100;
/** SendMessageBatch, PublishBatch and DeleteMessageBatch take at most 10 entries (SQS/SNS quotas). */
const BATCH = 10;
/** Concurrent senders, each with one batch in flight (INFRA.md's raw ceiling used 8 callers). */
const SENDERS = 8;
/** Concurrent long-polling receivers. */
const POLLERS = 4;
/** Omnibus's handler concurrency: every message of every poller's batch at once, as the raw side. */
const CONCURRENCY = POLLERS * BATCH;

type SqsModule = typeof import('@aws-sdk/client-sqs');
type SnsModule = typeof import('@aws-sdk/client-sns');

/** The per-message work every side awaits: trivial, so the figures measure the plumbing. */
async function handle(body: BenchBody): Promise<void> {
  if (body.pad.length === 0) throw new Error(`message ${body.seq} lost its padding`);
}

async function load<T>(specifier: string, hint: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new Error(`${specifier} could not be loaded: ${hint}`, { cause: error });
  }
}

/** Client settings for the emulator of this process. */
async function clientConfig() {
  const { endpoint } = await fauxqs();
  return { endpoint, region: REGION, credentials: CREDENTIALS };
}

/**
 * Runs `work` as the timed section with `counter` reset at its start; `work` must resolve once
 * `deleted` did (all `messages` confirmed deleted). The counts become the measurement's `apiCalls`.
 */
async function measureDeleted(
  messages: number,
  counter: CallCounter,
  work: (deleted: Promise<void>) => Promise<void>,
): Promise<Measurement> {
  counter.reset();
  const measurement = await measure(messages, () => work(counter.deletedReach(messages)));
  const apiCalls = counter.snapshot();
  if (counter.deleted !== messages) {
    throw new Error(`deleted ${counter.deleted} of ${messages} messages`);
  }
  return { ...measurement, apiCalls };
}

/** Sends `bodies` in batches of {@link BATCH} from {@link SENDERS} concurrent loops. */
async function sendConcurrently(
  count: number,
  sendBatch: (start: number, end: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(start + BATCH, count);
      await sendBatch(start, next);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
}

/** A queue named after the run: its URL and ARN. */
async function createQueue(
  SQS: SqsModule,
  sqs: SQSClient,
  name: string,
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new SQS.CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new SQS.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** An SNS topic delivering raw to `queue` (with the queue policy that lets it send). */
async function subscribeRaw(
  SQS: SqsModule,
  SNS: SnsModule,
  sqs: SQSClient,
  sns: SNSClient,
  name: string,
  queue: { url: string; arn: string },
): Promise<string> {
  const { TopicArn } = await sns.send(new SNS.CreateTopicCommand({ Name: name }));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue.arn,
        Condition: { ArnEquals: { 'aws:SourceArn': TopicArn } },
      },
    ],
  };
  await sqs.send(
    new SQS.SetQueueAttributesCommand({
      QueueUrl: queue.url,
      Attributes: { Policy: JSON.stringify(policy) },
    }),
  );
  await sns.send(
    new SNS.SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: queue.arn,
      Attributes: { RawMessageDelivery: 'true' },
      ReturnSubscriptionArn: true,
    }),
  );
  return TopicArn!;
}

/**
 * The message attribute Omnibus sends with every message (adapters/sqs `message-mapping.ts`): its
 * id and publish time (and a content type other than JSON) as one JSON string attribute. For the raw side that carries
 * the same wire, so the gap it leaves is Omnibus's code alone.
 */
function metadataAttribute() {
  // A JSON body's content type is the default, which the adapter leaves out.
  const metadata = { 'omnibus-id': randomUUID(), 'omnibus-published-at': String(Date.now()) };
  return { omnibus: { DataType: 'String', StringValue: JSON.stringify(metadata) } };
}

/**
 * The raw SDK side: {@link SENDERS} loops of SendMessageBatch (or SNS PublishBatch with
 * `fanout`), {@link POLLERS} loops of ReceiveMessage 10 (long poll) → handle the batch
 * concurrently → DeleteMessageBatch.
 */
function rawSide(fanout: boolean, withMetadata = false): BenchSide {
  return {
    label:
      (withMetadata ? 'same wire as Omnibus (one `omnibus` JSON attribute), ' : '') +
      (fanout
        ? `raw SDK: SNS PublishBatch ×${BATCH} (${SENDERS} senders) → SQS raw delivery, ReceiveMessage ${BATCH} (${POLLERS} pollers, ${WAIT_SECONDS} s long poll), DeleteMessageBatch`
        : `raw SDK: SendMessageBatch ×${BATCH} (${SENDERS} senders), ReceiveMessage ${BATCH} (${POLLERS} pollers, ${WAIT_SECONDS} s long poll), DeleteMessageBatch`),
    async run({ messages, runId }) {
      const SQS = await load<SqsModule>('@aws-sdk/client-sqs', 'npm install');
      const SNS = fanout ? await load<SnsModule>('@aws-sdk/client-sns', 'npm install') : undefined;
      const config = await clientConfig();
      const counter = new CallCounter();
      const sqs = new SQS.SQSClient(config);
      const sns = SNS === undefined ? undefined : new SNS.SNSClient(config);
      counter.attach(sqs);
      if (sns !== undefined) counter.attach(sns);
      const bodies = jsonBodies(messages, BODY_BYTES);
      const queue = await createQueue(SQS, sqs, `${runId}-raw`);
      const topicArn =
        SNS === undefined || sns === undefined
          ? undefined
          : await subscribeRaw(SQS, SNS, sqs, sns, `${runId}-raw`, queue);
      const stop = new AbortController();

      const sendBatch = async (start: number, end: number) => {
        const entries = [];
        for (let index = start; index < end; index++) {
          entries.push({ Id: String(index - start), body: JSON.stringify(bodies[index]) });
        }
        const { Failed } =
          topicArn === undefined || SNS === undefined || sns === undefined
            ? await sqs.send(
                new SQS.SendMessageBatchCommand({
                  QueueUrl: queue.url,
                  Entries: entries.map(({ Id, body }) => ({
                    Id,
                    MessageBody: body,
                    ...(withMetadata ? { MessageAttributes: metadataAttribute() } : {}),
                  })),
                }),
              )
            : await sns.send(
                new SNS.PublishBatchCommand({
                  TopicArn: topicArn,
                  PublishBatchRequestEntries: entries.map(({ Id, body }) => ({
                    Id,
                    Message: body,
                  })),
                }),
              );
        if (Failed !== undefined && Failed.length > 0) {
          throw new Error(`${Failed.length} entries of a batch failed: ${Failed[0]?.Code}`);
        }
      };

      const poll = () =>
        pollAndDelete(SQS, sqs, queue.url, stop.signal, (message) =>
          handle(JSON.parse(message.Body!) as BenchBody),
        );

      try {
        let polling: Promise<unknown> = Promise.resolve();
        const measurement = await measureDeleted(messages, counter, async (deleted) => {
          polling = Promise.all(Array.from({ length: POLLERS }, poll));
          polling.catch(() => {});
          // A poller's failure fails the run instead of leaving it waiting for deletes.
          await Promise.race([
            Promise.all([sendConcurrently(messages, sendBatch), deleted]),
            polling.then(() => {
              throw new Error('the pollers stopped before every message was deleted');
            }),
          ]);
        });
        stop.abort();
        await polling;
        return measurement;
      } finally {
        stop.abort();
        await sqs.send(new SQS.DeleteQueueCommand({ QueueUrl: queue.url })).catch(() => {});
        if (SNS !== undefined && sns !== undefined && topicArn !== undefined) {
          await sns.send(new SNS.DeleteTopicCommand({ TopicArn: topicArn })).catch(() => {});
        }
        sqs.destroy();
        sns?.destroy();
      }
    },
  };
}

/**
 * bbc/sqs-consumer: one `Consumer` per poller, as its README suggests for more concurrency
 * (it polls again only once the whole batch was handled), `batchSize` 10 and `handleMessage`,
 * the way most users write it: it deletes each message with its own DeleteMessage call.
 * Sent with raw SendMessageBatch, as the raw side.
 */
const sqsConsumerSide: BenchSide = {
  label: `bbc/sqs-consumer: ${POLLERS} Consumers, batchSize ${BATCH}, handleMessage (DeleteMessage each); raw SendMessageBatch ×${BATCH} (${SENDERS} senders)`,
  async run({ messages, runId }) {
    const SQS = await load<SqsModule>('@aws-sdk/client-sqs', 'npm install');
    const { Consumer } = await load<typeof import('sqs-consumer')>('sqs-consumer', 'npm install');
    const config = await clientConfig();
    const counter = new CallCounter();
    const sqs = new SQS.SQSClient(config);
    counter.attach(sqs);
    const bodies = jsonBodies(messages, BODY_BYTES);
    const queue = await createQueue(SQS, sqs, `${runId}-peer`);
    // A handler or poll error fails the run instead of leaving it waiting for deletes.
    let failing: (error: Error) => void = () => {};
    const consumers = Array.from({ length: POLLERS }, () => {
      const consumer = Consumer.create({
        queueUrl: queue.url,
        sqs,
        batchSize: BATCH,
        waitTimeSeconds: WAIT_SECONDS,
        messageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
        messageAttributeNames: ['All'],
        handleMessage: async (message) => {
          await handle(JSON.parse(message.Body!) as BenchBody);
          return message;
        },
      });
      consumer.on('error', (error) => failing(error));
      consumer.on('processing_error', (error) => failing(error));
      return consumer;
    });
    try {
      const measurement = await measureDeleted(messages, counter, async (deleted) => {
        for (const consumer of consumers) consumer.start();
        const failed = new Promise<never>((_, reject) => {
          failing = reject;
        });
        failed.catch(() => {});
        await sendConcurrently(messages, async (start, end) => {
          const entries = [];
          for (let index = start; index < end; index++) {
            entries.push({ Id: String(index - start), MessageBody: JSON.stringify(bodies[index]) });
          }
          const { Failed } = await sqs.send(
            new SQS.SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
          );
          if (Failed !== undefined && Failed.length > 0) {
            throw new Error(`${Failed.length} entries of a batch failed: ${Failed[0]?.Code}`);
          }
        });
        await Promise.race([deleted, failed]);
      });
      return measurement;
    } finally {
      for (const consumer of consumers) consumer.stop({ abort: true });
      await sqs.send(new SQS.DeleteQueueCommand({ QueueUrl: queue.url })).catch(() => {});
      sqs.destroy();
    }
  },
};

/**
 * Omnibus through `@omnibus/sqs` (queue or fan-out mode): the same {@link SENDERS} loops calling
 * `sendBatch` with 10 entries, one consumer with concurrency {@link CONCURRENCY} over the adapter's
 * {@link POLLERS} pollers. The counter rides on the adapter's own SDK clients (`bus.native`).
 */
function omnibusSide(fanout: boolean): BenchSide {
  return {
    label: `omnibus sqs:// ${fanout ? 'fan-out (SNS → SQS)' : 'queue'} mode, sendBatch ×${BATCH} (${SENDERS} senders), ${POLLERS} pollers, concurrency ${CONCURRENCY}`,
    async run({ messages, runId }) {
      const { connect } = await load<typeof import('@omnibus/core')>(
        '@omnibus/core',
        'run `npm run build` first',
      );
      const { sqs } = await load<typeof import('@omnibus/sqs')>(
        '@omnibus/sqs',
        'run `npm run build` first',
      );
      const { endpoint } = await fauxqs();
      const bodies = jsonBodies(messages, BODY_BYTES);
      const bus = await connect(
        sqs({
          endpoint,
          region: REGION,
          credentials: CREDENTIALS,
          mode: fanout ? 'fanout' : 'queue',
          pollers: POLLERS,
          waitTimeSeconds: WAIT_SECONDS,
        }),
        { prefix: runId },
      );
      const counter = new CallCounter();
      const native = bus.native as import('@omnibus/sqs').SqsNative;
      counter.attach(native.sqs);
      counter.attach(native.sns);
      try {
        // Any error (a failed receive or ack, even one core retries) fails the run: its figures
        // would not be those of the work described.
        let failing: (error: Error) => void = () => {};
        const failed = new Promise<never>((_, reject) => {
          failing = reject;
        });
        failed.catch(() => {});
        const consumer = bus.consumer<BenchBody>('bench', 'bench', {
          concurrency: CONCURRENCY,
          onError: (error) => failing(error),
        });
        await consumer.ready();
        const producer = bus.producer<BenchBody>('bench');
        const measurement = await measureDeleted(messages, counter, async (deleted) => {
          await consumer.start(async (message) => {
            await handle(message.body);
          });
          await sendConcurrently(messages, async (start, end) => {
            const entries: { body: BenchBody }[] = [];
            for (let index = start; index < end; index++) entries.push({ body: bodies[index]! });
            await producer.sendBatch(entries);
          });
          await Promise.race([deleted, failed]);
        });
        await consumer.stop();
        return measurement;
      } finally {
        await bus.close();
      }
    },
  };
}

export const available: BenchModule['available'] = async () => fauxqsSupported();

export const scenarios: BenchScenario[] = [
  {
    name: 'sqs/e2e-queue-vs-raw-sdk',
    description: `send → handler → delete on fauxqs, queue mode, ${BODY_BYTES}-byte JSON, batches of ${BATCH}, ${POLLERS} pollers`,
    messages: MESSAGES,
    omnibus: omnibusSide(false),
    baseline: rawSide(false),
    targets: { ratio: 0.95, callsPer1000: 310 },
  },
  {
    name: 'sqs/e2e-fanout-vs-raw-sdk',
    description: `publish → SNS → SQS → handler → delete on fauxqs, fan-out mode, ${BODY_BYTES}-byte JSON, batches of ${BATCH}, ${POLLERS} pollers`,
    messages: MESSAGES,
    omnibus: omnibusSide(true),
    baseline: rawSide(true),
    targets: { ratio: 0.95, callsPer1000: 310 },
  },
  {
    name: 'sqs/e2e-queue-vs-raw-sdk-same-wire',
    description: `as sqs/e2e-queue-vs-raw-sdk, with the raw side sending Omnibus's metadata attribute too: the gap left is Omnibus's code, not the wire format`,
    messages: MESSAGES,
    omnibus: omnibusSide(false),
    baseline: rawSide(false, true),
    targets: { ratio: 0.95, callsPer1000: 310 },
  },
  {
    name: 'sqs/e2e-vs-sqs-consumer',
    description: `send → handler → delete on fauxqs, queue mode, ${BODY_BYTES}-byte JSON: Omnibus against bbc/sqs-consumer`,
    messages: MESSAGES,
    omnibus: omnibusSide(false),
    baseline: sqsConsumerSide,
    targets: { ratio: 1, callsPer1000: 310 },
  },
  // 200 msg/s, not the 1,000 of the other brokers: one HTTP request per send (the raw side's
  // SendMessage) at 1,000/s saturates this 2-core machine with fauxqs on it, and a queue that
  // grows all run long measures the backlog, not the latency.
  latencyScenario(sqsTarget, { ratePerSecond: 200 }),
  backlogScenario(sqsTarget),
];
