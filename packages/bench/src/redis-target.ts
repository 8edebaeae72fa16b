// The Redis adapter as a BrokerTarget: Omnibus on redis://, against raw ioredis XADD / XREADGROUP / XACK.
import type { BrokerTarget, RawHandler, RawQueue } from './broker-target.ts';
import { type AdapterModule, load } from './broker-target.ts';

const URL_TEXT = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type IORedis = typeof import('ioredis');

/** Omnibus's key prefix for a run: letters and digits only, short enough for every broker name. */
function prefixOf(runId: string): string {
  return `b${runId.replaceAll('-', '').slice(0, 20)}`;
}

async function unlinkMatching(pattern: string): Promise<void> {
  const { Redis } = await load<IORedis>('ioredis');
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

async function rawStream(runId: string): Promise<RawQueue> {
  const { Redis } = await load<IORedis>('ioredis');
  const stream = `bench-raw:${runId}`;
  const writer = new Redis(URL_TEXT);
  const reader = new Redis(URL_TEXT);
  await writer.xgroup('CREATE', stream, 'bench', '$', 'MKSTREAM').catch((error: Error) => {
    if (!error.message.includes('BUSYGROUP')) throw error;
  });
  let stopped = false;
  let reading: Promise<void> = Promise.resolve();
  return {
    async send(bodies) {
      const pipeline = writer.pipeline();
      for (const body of bodies) pipeline.xadd(stream, '*', 'body', body);
      const results = await pipeline.exec();
      for (const [error] of results ?? []) if (error) throw error;
    },
    async consume(concurrency: number, handler: RawHandler) {
      const loop = async () => {
        while (!stopped) {
          const reply = (await reader.xreadgroupBuffer(
            'GROUP',
            'bench',
            'c1',
            'COUNT',
            concurrency,
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
              await handler(fields[1]!);
            }),
          );
          await writer.xack(stream, 'bench', ...ids);
        }
      };
      reading = loop();
    },
    async close(remove) {
      stopped = true;
      await reading;
      if (remove) await writer.del(stream);
      writer.disconnect();
      reader.disconnect();
    },
  };
}

export const redisTarget: BrokerTarget = {
  adapter: 'redis',
  external: true,
  source: { url: import.meta.url, exportName: 'redisTarget' },
  omnibus: {
    label: 'omnibus redis://',
    async open(runId) {
      const { connect } = await load<typeof import('@omnibus/core')>('@omnibus/core');
      const { redis } = await load<AdapterModule<'redis'>>('@omnibus/redis');
      const prefix = prefixOf(runId);
      const bus = await connect(redis({ url: URL_TEXT }), { prefix });
      return {
        bus,
        async close(remove) {
          await bus.close();
          if (remove) await unlinkMatching(`omnibus:{${prefix}*`);
        },
      };
    },
  },
  raw: {
    label: `ioredis: pipelined XADD, XREADGROUP COUNT <concurrency> BLOCK, XACK per read`,
    open: rawStream,
  },
};
