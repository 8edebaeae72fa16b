// The memory adapter as a BrokerTarget: Omnibus on memory://, against the bare in-process loop.
import type { BrokerTarget, RawHandler, RawQueue } from './broker-target.ts';
import { load } from './broker-target.ts';
import { RingBuffer } from './ring-buffer.ts';

/** A ring-buffer queue drained by `concurrency` async workers: what a broker costs at its cheapest. */
function bareQueue(): RawQueue {
  const queue = new RingBuffer<Buffer>(1024);
  const idle: (() => void)[] = [];
  let closed = false;
  let workers: Promise<void>[] = [];
  return {
    async send(bodies) {
      for (const body of bodies) queue.push(body);
      for (let woken = 0; woken < bodies.length && idle.length > 0; woken++) idle.pop()!();
      // A send resolves asynchronously, as the broker's acceptance would.
      await Promise.resolve();
    },
    async consume(concurrency: number, handler: RawHandler) {
      const worker = async (): Promise<void> => {
        while (!closed) {
          const bytes = queue.shift();
          if (bytes === undefined) {
            await new Promise<void>((resolve) => idle.push(resolve));
            continue;
          }
          await handler(bytes);
        }
      };
      workers = Array.from({ length: concurrency }, worker);
    },
    async close() {
      closed = true;
      for (const wake of idle.splice(0)) wake();
      await Promise.all(workers);
    },
  };
}

export const memoryTarget: BrokerTarget = {
  adapter: 'memory',
  external: false,
  source: { url: import.meta.url, exportName: 'memoryTarget' },
  omnibus: {
    label: 'omnibus memory://',
    async open() {
      const { connect } = await load<typeof import('@omnibus/core')>('@omnibus/core');
      const bus = await connect('memory://');
      return { bus, close: () => bus.close() };
    },
  },
  raw: {
    label: 'bare loop: Buffer → ring buffer → async workers',
    open: async () => bareQueue(),
  },
};
