/**
 * Child-process entry of the backlog scenario: queues a run's backlog through one side's own
 * client, then exits, so that the consumer process's peak RSS holds none of the sending.
 *
 *   node backlog-fill.ts <target module URL> <export name> <omnibus|baseline> <runId> <messages> <body bytes>
 */
import type { BrokerTarget } from './broker-target.ts';

/** Bodies are made a chunk at a time, so the filler's own memory stays small too. */
const CHUNK = 1000;

function chunkBodies(start: number, end: number, bytes: number): { seq: number; pad: string }[] {
  const padding = 'x'.repeat(bytes);
  const bodies = [];
  for (let seq = start; seq < end; seq++) {
    const overhead = JSON.stringify({ seq, pad: '' }).length;
    bodies.push({ seq, pad: padding.slice(0, bytes - overhead) });
  }
  return bodies;
}

async function main(): Promise<void> {
  const [url, exportName, side, runId, messagesArgument, bytesArgument] = process.argv.slice(2);
  if (url === undefined || exportName === undefined || runId === undefined) {
    throw new Error(
      'usage: backlog-fill.ts <module URL> <export> <side> <runId> <messages> <bytes>',
    );
  }
  const messages = Number(messagesArgument);
  const bytes = Number(bytesArgument);
  const target = (await import(url))[exportName] as BrokerTarget;
  if (side === 'omnibus') {
    const { bus, close } = await target.omnibus.open(runId);
    const producer = bus.producer<{ seq: number; pad: string }>('bench');
    for (let start = 0; start < messages; start += CHUNK) {
      const bodies = chunkBodies(start, Math.min(messages, start + CHUNK), bytes);
      await producer.sendBatch(bodies.map((body) => ({ body })));
    }
    await close(false);
  } else {
    const queue = await target.raw.open(runId);
    for (let start = 0; start < messages; start += CHUNK) {
      const bodies = chunkBodies(start, Math.min(messages, start + CHUNK), bytes);
      await queue.send(bodies.map((body) => Buffer.from(JSON.stringify(body), 'utf8')));
    }
    await queue.close(false);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
