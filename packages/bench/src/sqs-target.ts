// The SQS adapter as a BrokerTarget: Omnibus on sqs:// queue mode against the raw SDK, both on one fauxqs per run process.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BrokerTarget, RawQueue } from './broker-target.ts';
import { load } from './broker-target.ts';
import { fauxqs } from './sqs-fauxqs.ts';
import { CREDENTIALS, pollAndDelete, REGION, WAIT_SECONDS } from './sqs-raw.ts';

/** SendMessageBatch takes at most 10 entries, ReceiveMessage returns at most 10 (SQS quotas). */
const BATCH = 10;
/** Batches the raw side keeps in flight while filling a backlog. */
const SENDERS = 8;
/**
 * The backlog's filler runs in a child process and must reach the consumer's emulator: the run
 * process publishes its endpoint here before forking, and a child finding it set uses it.
 */
const ENDPOINT_VARIABLE = 'OMNIBUS_BENCH_SQS_ENDPOINT';

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
      polling = Promise.all(
        Array.from({ length: pollers }, () =>
          pollAndDelete(SQS, sqs, queueUrl!, stop.signal, (message) =>
            handler(Buffer.from(message.Body!, 'utf8')),
          ),
        ),
      );
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
