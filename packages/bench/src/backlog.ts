// The backlog scenario for any BrokerTarget: a deep queue filled first, then drained by one consumer; peak RSS is the figure.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BrokerTarget } from './broker-target.ts';
import { measure } from './measure.ts';
import type { BenchScenario, BenchSide, Measurement } from './scenario.ts';

export interface BacklogOptions {
  /** Consumer concurrency (Omnibus) and prefetch / read count (raw). @default 20 */
  readonly concurrency?: number;
  /** JSON body size. @default 1024 */
  readonly bodyBytes?: number;
  /** The Omnibus consumer's `ordering`, to match the raw side's subscription. @default the bus's */
  readonly ordering?: boolean;
}

const fillFile = fileURLToPath(new URL('./backlog-fill.ts', import.meta.url));

/** Queues `messages` bodies through `side`'s client in a child process, and waits for it to exit. */
function fill(
  target: BrokerTarget,
  side: 'omnibus' | 'baseline',
  runId: string,
  messages: number,
  bodyBytes: number,
): Promise<void> {
  const { url, exportName } = target.source;
  return new Promise((resolve, reject) => {
    const child = fork(
      fillFile,
      [url, exportName, side, runId, String(messages), String(bodyBytes)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`backlog filler exited with ${signal ?? `code ${code}`}`));
    });
  });
}

function countdown(count: number): { tick(): void; done: Promise<void> } {
  let left = count;
  let resolve = () => {};
  const done = new Promise<void>((fulfil) => {
    resolve = fulfil;
  });
  return {
    tick() {
      left--;
      if (left === 0) resolve();
    },
    done,
  };
}

/**
 * `redis/backlog-memory`: the queue is filled first (by a child process, through each side's own
 * client), then one consumer drains it. The figure is the consumer process's peak RSS, which the
 * harness reads per process: it should be bounded by the concurrency, not by the backlog.
 */
export function backlogScenario(target: BrokerTarget, options: BacklogOptions = {}): BenchScenario {
  if (!target.external) {
    throw new TypeError(`${target.adapter}: a backlog needs a broker outside the process`);
  }
  const concurrency = options.concurrency ?? 20;
  const bodyBytes = options.bodyBytes ?? 1024;

  const omnibus: BenchSide = {
    label: `${target.omnibus.label}, concurrency ${concurrency}`,
    async run({ messages, runId }): Promise<Measurement> {
      const { bus, close } = await target.omnibus.open(runId);
      try {
        const consumer = bus.consumer<{ seq: number; pad: string }>('bench', 'bench', {
          concurrency,
          ...(options.ordering === undefined ? {} : { ordering: options.ordering }),
        });
        await consumer.ready();
        await fill(target, 'omnibus', runId, messages, bodyBytes);
        const progress = countdown(messages);
        const measurement = await measure(messages, async () => {
          await consumer.start(() => {
            progress.tick();
          });
          await progress.done;
        });
        await consumer.stop();
        return measurement;
      } finally {
        await close(true);
      }
    },
  };

  const raw: BenchSide = {
    label: target.raw.label.replace('<concurrency>', String(concurrency)),
    async run({ messages, runId }): Promise<Measurement> {
      const queue = await target.raw.open(runId);
      try {
        await fill(target, 'baseline', runId, messages, bodyBytes);
        const progress = countdown(messages);
        return await measure(messages, async () => {
          await queue.consume(concurrency, (bytes) => {
            JSON.parse(bytes.toString('utf8'));
            progress.tick();
          });
          await progress.done;
        });
      } finally {
        await queue.close(true);
      }
    },
  };

  return {
    name: `${target.adapter}/backlog-memory`,
    description: `${(100_000).toLocaleString('en-US')} × ${bodyBytes}-byte JSON queued first, then drained by one consumer with concurrency ${concurrency}; peak RSS of the consumer process`,
    messages: 100_000,
    warmupMessages: 0,
    omnibus,
    baseline: raw,
    targets: { peakRssRatio: 1.2 },
  };
}
