/**
 * Benchmarks of the memory adapter, run by `npm run bench -- memory` (see packages/bench).
 *
 * The baseline is the cheapest loop doing the same work in the same process: encode to JSON bytes,
 * queue, decode, await an async handler per message, with the same batch size and concurrency.
 * The ratio is therefore what Omnibus's own machinery costs per message (validation, ids,
 * codec, leases, ack-once, concurrency control), with no broker to hide it.
 */
import type { BenchBody, BenchScenario, BenchSide } from '@omnibus/bench';
import { jsonBodies, measure, RingBuffer, sendInBatches } from '@omnibus/bench';

const BODY_BYTES = 100;
const BATCH = 1000;
const CONCURRENCY = 256;
const TOPIC = 'bench';
const SUBSCRIPTION = 'bench';

/** The per-message work both sides await: trivial, so the figures measure the plumbing. */
async function handle(body: BenchBody): Promise<void> {
  if (body.pad.length === 0) throw new Error(`message ${body.seq} lost its padding`);
}

async function loadCore(): Promise<typeof import('@omnibus/core')> {
  try {
    return await import('@omnibus/core');
  } catch (error) {
    throw new Error('@omnibus/core is not built: run `npm run build` first', { cause: error });
  }
}

const omnibus: BenchSide = {
  label: `omnibus memory://, sendBatch ×${BATCH}, concurrency ${CONCURRENCY}`,
  async run({ messages }) {
    const { connect } = await loadCore();
    const bodies = jsonBodies(messages, BODY_BYTES);
    const bus = await connect('memory://');
    try {
      const consumer = bus.consumer<BenchBody>(TOPIC, SUBSCRIPTION, { concurrency: CONCURRENCY });
      let handled = 0;
      let allHandled = () => {};
      const done = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      await consumer.start(async (message) => {
        await handle(message.body);
        handled++;
        if (handled === messages) allHandled();
      });
      const producer = bus.producer<BenchBody>(TOPIC);
      const measurement = await measure(messages, async () => {
        await sendInBatches(producer, bodies, messages, BATCH);
        await done;
        await bus.settled();
      });
      await consumer.stop();
      if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
      return measurement;
    } finally {
      await bus.close();
    }
  },
};

const bareLoop: BenchSide = {
  label: `bare loop: JSON → Buffer → ring buffer → JSON, ${CONCURRENCY} async workers`,
  async run({ messages }) {
    const bodies = jsonBodies(messages, BODY_BYTES);
    const queue = new RingBuffer<Buffer>(BATCH);
    const idle: (() => void)[] = [];
    let handled = 0;
    let sent = false;

    const worker = async (): Promise<void> => {
      for (;;) {
        const bytes = queue.shift();
        if (bytes === undefined) {
          if (sent) return;
          await new Promise<void>((resolve) => idle.push(resolve));
          continue;
        }
        await handle(JSON.parse(bytes.toString('utf8')) as BenchBody);
        handled++;
      }
    };

    const measurement = await measure(messages, async () => {
      const workers = Array.from({ length: CONCURRENCY }, worker);
      for (let start = 0; start < messages; start += BATCH) {
        const end = Math.min(start + BATCH, messages);
        for (let index = start; index < end; index++) {
          queue.push(Buffer.from(JSON.stringify(bodies[index]), 'utf8'));
        }
        for (let woken = 0; woken < end - start && idle.length > 0; woken++) idle.pop()!();
        // A send resolves asynchronously, as the broker's acceptance would.
        await Promise.resolve();
      }
      sent = true;
      for (const wake of idle.splice(0)) wake();
      await Promise.all(workers);
    });
    if (handled !== messages) throw new Error(`handled ${handled} of ${messages} messages`);
    return measurement;
  },
};

export const scenarios: BenchScenario[] = [
  {
    name: 'memory/e2e-send-handle-ack',
    description: `send → handler → ack, ${BODY_BYTES}-byte JSON bodies, concurrency ${CONCURRENCY}`,
    messages: 200_000,
    omnibus,
    baseline: bareLoop,
    targets: { msgPerSec: 1_000_000, ratio: 0.5 },
  },
];
