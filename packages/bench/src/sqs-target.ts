// The SQS adapter as a BrokerTarget: Omnibus on sqs:// queue mode against the raw SDK, both on one fauxqs per run process.
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { BrokerTarget, RawHandler, RawQueue } from './broker-target.ts';
import { load } from './broker-target.ts';
import { fauxqs } from './sqs-fauxqs.ts';

const REGION = 'us-east-1';
/** fauxqs accepts any credentials; fixed ones keep the SDK off the default provider chain. */
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
/** SendMessageBatch and DeleteMessageBatch take at most 10 entries, ReceiveMessage returns at most 10 (SQS quotas). */
const BATCH = 10;
/** Batches the raw side keeps in flight while filling a backlog. */
const SENDERS = 8;
/** SQS's longest long poll, seconds; the raw pollers are aborted on close. */
const WAIT_SECONDS = 20;
/**
 * The backlog's filler runs in a child process and must reach the consumer's emulator: the run
 * process publishes its endpoint here before forking, and a child finding it set uses it.
 */
const ENDPOINT_VARIABLE = 'OMNIBUS_BENCH_SQS_ENDPOINT';
/** What the raw side asks ReceiveMessage for, as the adapter does (issue 9). */
const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SentTimestamp',
  'MessageGroupId',
] as const;

type SqsModule = typeof import('@aws-sdk/client-sqs');

async function endpoint(): Promise<string> {
  const inherited = process.env[ENDPOINT_VARIABLE];
  if (inherited !== undefined) return inherited;
  const started = (await fauxqs()).endpoint;
  process.env[ENDPOINT_VARIABLE] = started;
  return started;
}

/** Runs `work` over `items` with at most `limit` of them in flight. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function rawQueue(runId: string): Promise<RawQueue> {
  const SQS = await load<SqsModule>('@aws-sdk/client-sqs');
  const sqs: SQSClient = new SQS.SQSClient({
    endpoint: await endpoint(),
    region: REGION,
    credentials: CREDENTIALS,
  });
  // Idempotent: the backlog's filler process creates the same queue.
  const { QueueUrl: queueUrl } = await sqs.send(
    new SQS.CreateQueueCommand({ QueueName: `bench-raw-${runId}` }),
  );
  const stop = new AbortController();
  let polling: Promise<unknown> = Promise.resolve();

  const poll = async (handler: RawHandler) => {
    while (!stop.signal.aborted) {
      let received: Message[] | undefined;
      try {
        ({ Messages: received } = await sqs.send(
          new SQS.ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: BATCH,
            WaitTimeSeconds: WAIT_SECONDS,
            MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stop.signal },
        ));
      } catch (error) {
        if (stop.signal.aborted) return;
        throw error;
      }
      if (received === undefined || received.length === 0) continue;
      await Promise.all(received.map((message) => handler(Buffer.from(message.Body!, 'utf8'))));
      const { Failed } = await sqs.send(
        new SQS.DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: received.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      );
      if (Failed !== undefined && Failed.length > 0) {
        throw new Error(`${Failed.length} deletes of a batch failed: ${Failed[0]?.Code}`);
      }
    }
  };

  return {
    async send(bodies) {
      if (bodies.length === 1) {
        await sqs.send(
          new SQS.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: bodies[0]!.toString() }),
        );
        return;
      }
      const batches: (readonly Buffer[])[] = [];
      for (let start = 0; start < bodies.length; start += BATCH) {
        batches.push(bodies.slice(start, start + BATCH));
      }
      await inParallel(batches, SENDERS, async (batch) => {
        const { Failed } = await sqs.send(
          new SQS.SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((body, index) => ({
              Id: String(index),
              MessageBody: body.toString(),
            })),
          }),
        );
        if (Failed !== undefined && Failed.length > 0) {
          throw new Error(`${Failed.length} entries of a batch failed: ${Failed[0]?.Code}`);
        }
      });
    },
    async consume(concurrency, handler) {
      // As many long-polling loops as it takes for `concurrency` messages in hand at once.
      const pollers = Math.max(1, Math.ceil(concurrency / BATCH));
      polling = Promise.all(Array.from({ length: pollers }, () => poll(handler)));
      // A failed poll fails the run when close() awaits it.
      polling.catch(() => undefined);
    },
    async close(remove) {
      stop.abort();
      try {
        await polling;
        if (remove) await sqs.send(new SQS.DeleteQueueCommand({ QueueUrl: queueUrl }));
      } finally {
        sqs.destroy();
      }
    },
  };
}

export const sqsTarget: BrokerTarget = {
  adapter: 'sqs',
  external: true,
  source: { url: import.meta.url, exportName: 'sqsTarget' },
  omnibus: {
    label: 'omnibus sqs:// queue mode (fauxqs)',
    async open(runId) {
      const { connect } = await load<typeof import('@omnibus/core')>('@omnibus/core');
      const { sqs } = await load<typeof import('@omnibus/sqs')>('@omnibus/sqs');
      const bus = await connect(
        sqs({
          endpoint: await endpoint(),
          region: REGION,
          credentials: CREDENTIALS,
          mode: 'queue',
        }),
        { prefix: `b${runId.replaceAll('-', '').slice(0, 20)}-` },
      );
      return {
        bus,
        async close(remove) {
          try {
            if (remove) {
              await bus.deleteSubscription('bench', 'bench');
              await bus.deleteTopic('bench');
            }
          } finally {
            await bus.close();
          }
        },
      };
    },
  },
  raw: {
    label: `@aws-sdk/client-sqs: SendMessage(Batch ×${BATCH}), ReceiveMessage ${BATCH} (one ${WAIT_SECONDS} s long-polling loop per ${BATCH} of concurrency), DeleteMessageBatch per receive`,
    open: rawQueue,
  },
};
