/**
 * Benchmarks of the Redis adapter, run by `npm run bench -- redis` (see packages/bench).
 *
 * Every side does the same end-to-end work on the same Redis (127.0.0.1:6379 or REDIS_URL):
 * 100-byte JSON bodies sent in pipelined batches of 1,000, read 100 at a time by a consumer group
 * (or BullMQ's worker), handed to an async handler, and acknowledged; the clock stops when the last
 * message was handled and acked.
 *
 * - `redis/e2e-send-handle-ack`: Omnibus against raw ioredis (pipelined XADD, XREADGROUP COUNT 100
 *   BLOCK on its own connection, XACK per batch). The ratio is what Omnibus costs on top of Redis.
 * - `redis/e2e-vs-bullmq`: Omnibus against BullMQ (`addBulk` + `Worker`, concurrency 100), the
 *   usual Redis job queue, as a peer figure.
 */
import type { BenchBody, BenchScenario, BenchSide } from '@omnibus/bench';
import { jsonBodies, measure, reachable, sendInBatches } from '@omnibus/bench';

const URL_TEXT = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The broker's port: each side's cost to Redis is measured too (its CPU time). */
const BROKER_PORT = Number(new URL(URL_TEXT).port || 6379);
const BODY_BYTES = 100;
const BATCH = 1000;
const READ_COUNT = 100;
const CONCURRENCY = 100;

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

type IORedis = typeof import('ioredis');

/** A promise resolved when `count` messages were handled, with the counter that drives it. */
function countdown(count: number): {
  tick(): void;
  readonly done: Promise<void>;
  readonly handled: () => number;
} {
  let handled = 0;
  let resolve = () => {};
  const done = new Promise<void>((fulfil) => {
    resolve = fulfil;
  });
  if (count === 0) resolve();
  return {
    tick() {
      handled++;
      if (handled === count) resolve();
    },
    done,
    handled: () => handled,
  };
}

const omnibus: BenchSide = {
  label: `omnibus redis://, sendBatch ×${BATCH}, concurrency ${CONCURRENCY}`,
  async run({ messages, runId }) {
    const { connect } = await load<typeof import('@omnibus/core')>(
      '@omnibus/core',
      'run `npm run build` first',
    );
    const { redis } = await load<typeof import('@omnibus/redis')>(
      '@omnibus/redis',
      'run `npm run build` first',
    );
    const bodies = jsonBodies(messages, BODY_BYTES);
    const bus = await connect(redis({ url: URL_TEXT }), {
      prefix: `b${runId.replaceAll('-', '').slice(0, 20)}`,
    });
    try {
      const consumer = bus.consumer<BenchBody>('bench', 'bench', { concurrency: CONCURRENCY });
      await consumer.ready();
      const progress = countdown(messages);
      await consumer.start(async (message) => {
        await handle(message.body);
        progress.tick();
      });
      const producer = bus.producer<BenchBody>('bench');
      const measurement = await measure(
        messages,
        async () => {
          await sendInBatches(producer, bodies, messages, BATCH);
          await progress.done;
          // The last handler resolved; its ack is on its way: wait for the pending list to empty.
          for (;;) {
            const stats = await consumer.stats();
            if (stats.inFlight === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        },
        { brokerPort: BROKER_PORT },
      );
      await consumer.stop();
      if (progress.handled() !== messages)
        throw new Error(`handled ${progress.handled()} of ${messages} messages`);
      return measurement;
    } finally {
      await bus.close();
      await cleanup(`omnibus:{b${runId.replaceAll('-', '').slice(0, 20)}*`);
    }
  },
};

const rawIoredis: BenchSide = {
  label: `ioredis: pipelined XADD ×${BATCH}, XREADGROUP COUNT ${READ_COUNT} BLOCK, XACK per batch`,
  async run({ messages, runId }) {
    const { Redis } = await load<IORedis>('ioredis', 'npm install');
    const bodies = jsonBodies(messages, BODY_BYTES);
    const stream = `bench-raw:${runId}`;
    const producer = new Redis(URL_TEXT);
    const reader = new Redis(URL_TEXT);
    try {
      await producer.xgroup('CREATE', stream, 'bench', '$', 'MKSTREAM');
      const progress = countdown(messages);
      let stopped = false;
      const consume = async () => {
        while (!stopped) {
          const reply = (await reader.xreadgroupBuffer(
            'GROUP',
            'bench',
            'c1',
            'COUNT',
            READ_COUNT,
            'BLOCK',
            100,
            'STREAMS',
            stream,
            '>',
          )) as [Buffer, [Buffer, Buffer[]][]][] | null;
          if (reply === null) continue;
          const entries = reply[0]![1];
          const ids: Buffer[] = new Array(entries.length);
          await Promise.all(
            entries.map(async ([id, fields], index) => {
              ids[index] = id;
              await handle(JSON.parse(fields[1]!.toString('utf8')) as BenchBody);
            }),
          );
          await producer.xack(stream, 'bench', ...ids);
          for (let index = 0; index < entries.length; index++) progress.tick();
        }
      };
      const measurement = await measure(
        messages,
        async () => {
          const consuming = consume();
          for (let start = 0; start < messages; start += BATCH) {
            const end = Math.min(start + BATCH, messages);
            const pipeline = producer.pipeline();
            for (let index = start; index < end; index++) {
              pipeline.xadd(
                stream,
                '*',
                'body',
                Buffer.from(JSON.stringify(bodies[index]), 'utf8'),
              );
            }
            const results = await pipeline.exec();
            for (const [error] of results ?? []) if (error) throw error;
          }
          await progress.done;
          stopped = true;
          await consuming;
        },
        { brokerPort: BROKER_PORT },
      );
      return measurement;
    } finally {
      await producer.del(stream).catch(() => undefined);
      producer.disconnect();
      reader.disconnect();
    }
  },
};

const bullmq: BenchSide = {
  label: `BullMQ 5+: addBulk ×${BATCH}, Worker concurrency ${CONCURRENCY}, removeOnComplete`,
  async run({ messages, runId }) {
    const { Queue, Worker } = await load<typeof import('bullmq')>(
      'bullmq',
      'npm install (devDependency of @omnibus/redis)',
    );
    const { Redis } = await load<IORedis>('ioredis', 'npm install');
    const bodies = jsonBodies(messages, BODY_BYTES);
    const name = `bench-${runId}`;
    const connection = new Redis(URL_TEXT, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection });
    const progress = countdown(messages);
    const worker = new Worker(
      name,
      async (job) => {
        await handle(job.data as BenchBody);
      },
      {
        connection: new Redis(URL_TEXT, { maxRetriesPerRequest: null }),
        concurrency: CONCURRENCY,
        autorun: false,
      },
    );
    worker.on('completed', () => progress.tick());
    try {
      await queue.waitUntilReady();
      const measurement = await measure(
        messages,
        async () => {
          void worker.run();
          for (let start = 0; start < messages; start += BATCH) {
            const end = Math.min(start + BATCH, messages);
            const jobs = [];
            for (let index = start; index < end; index++) {
              jobs.push({ name: 'bench', data: bodies[index], opts: { removeOnComplete: true } });
            }
            await queue.addBulk(jobs);
          }
          await progress.done;
        },
        { brokerPort: BROKER_PORT },
      );
      return measurement;
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
    }
  },
};

async function cleanup(pattern: string): Promise<void> {
  const { Redis } = await load<IORedis>('ioredis', 'npm install');
  const client = new Redis(URL_TEXT);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

export const available = (): Promise<true | string> => {
  const url = new URL(URL_TEXT);
  return reachable(url.hostname, Number(url.port || 6379));
};

export const scenarios: BenchScenario[] = [
  {
    name: 'redis/e2e-send-handle-ack',
    description: `send → handler → ack through a consumer group, ${BODY_BYTES}-byte JSON, batches of ${BATCH}, concurrency ${CONCURRENCY}`,
    messages: 50_000,
    omnibus,
    baseline: rawIoredis,
    targets: { ratio: 0.95 },
  },
  {
    name: 'redis/e2e-vs-bullmq',
    description: `the same end-to-end work, Omnibus against BullMQ (addBulk + Worker) on the same Redis, ${BODY_BYTES}-byte JSON`,
    messages: 20_000,
    omnibus,
    baseline: bullmq,
    targets: { ratio: 1 },
  },
];
