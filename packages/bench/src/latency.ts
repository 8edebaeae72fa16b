// The latency scenario for any BrokerTarget: a steady open-loop send rate, send → handler latency percentiles.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'hdr-histogram-js';
import type { BrokerTarget } from './broker-target.ts';
import type { BenchScenario, BenchSide, LatencySummary, Measurement } from './scenario.ts';

/** A latency body: its sequence number and the time (performance.now(), ms) it was due to be sent. */
interface LatencyBody {
  seq: number;
  due: number;
  pad: string;
}

export interface LatencyOptions {
  /** Messages per second the sender keeps to. @default 1000 */
  readonly ratePerSecond?: number;
  /** Length of the measured run. @default 10 */
  readonly seconds?: number;
  /** Consumer concurrency (Omnibus) and prefetch / read count (raw). @default 20 */
  readonly concurrency?: number;
  /** JSON body size. @default 100 */
  readonly bodyBytes?: number;
  /** The Omnibus consumer's `ordering`, to match the raw side's subscription. @default the bus's */
  readonly ordering?: boolean;
}

/** Records latencies in microseconds, 3 significant digits, up to 10 minutes. */
function latencyRecorder() {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  return {
    record(due: number) {
      histogram.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
    },
    summary(): LatencySummary {
      const ms = (us: number) => Math.round(us) / 1000;
      return {
        p50: ms(histogram.getValueAtPercentile(50)),
        p99: ms(histogram.getValueAtPercentile(99)),
        max: ms(histogram.maxValue),
      };
    },
  };
}

/**
 * Sends `count` messages at `ratePerSecond` on a timer schedule (open loop: the schedule never
 * waits for the broker), calling `send` with each body as it falls due. The body carries its due
 * time rather than the time `send` was called, so a stalled sender shows up as latency instead of
 * hiding it (coordinated omission).
 */
async function sendOnSchedule(
  count: number,
  ratePerSecond: number,
  bodyBytes: number,
  send: (body: LatencyBody) => Promise<unknown>,
): Promise<void> {
  const pad = 'x'.repeat(Math.max(0, bodyBytes - 40));
  const intervalMs = 1000 / ratePerSecond;
  const sends: Promise<unknown>[] = [];
  const start = performance.now();
  let next = 0;
  while (next < count) {
    const due = Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1);
    for (; next < due; next++) sends.push(send({ seq: next, due: start + next * intervalMs, pad }));
    if (next < count) await sleep(Math.max(0, start + next * intervalMs - performance.now()));
  }
  await Promise.all(sends);
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

/** `redis/latency`: Omnibus against the target's raw client, at the same steady rate. */
export function latencyScenario(target: BrokerTarget, options: LatencyOptions = {}): BenchScenario {
  const rate = options.ratePerSecond ?? 1000;
  const seconds = options.seconds ?? 10;
  const concurrency = options.concurrency ?? 20;
  const bodyBytes = options.bodyBytes ?? 100;

  const omnibus: BenchSide = {
    label: `${target.omnibus.label}, send() per message, concurrency ${concurrency}`,
    async run({ messages, runId }): Promise<Measurement> {
      const { bus, close } = await target.omnibus.open(runId);
      const latency = latencyRecorder();
      const progress = countdown(messages);
      try {
        const consumer = bus.consumer<LatencyBody>('bench', 'bench', {
          concurrency,
          ...(options.ordering === undefined ? {} : { ordering: options.ordering }),
        });
        await consumer.start((message) => {
          latency.record(message.body.due);
          progress.tick();
        });
        const producer = bus.producer<LatencyBody>('bench');
        const start = performance.now();
        await sendOnSchedule(messages, rate, bodyBytes, (body) => producer.send(body));
        await progress.done;
        const elapsedMs = performance.now() - start;
        await consumer.stop();
        return { messages, elapsedMs, latencyMs: latency.summary() };
      } finally {
        await close(true);
      }
    },
  };

  const raw: BenchSide = {
    label: `${target.raw.label.replace('<concurrency>', String(concurrency))}, one message per send`,
    async run({ messages, runId }): Promise<Measurement> {
      const queue = await target.raw.open(runId);
      const latency = latencyRecorder();
      const progress = countdown(messages);
      try {
        await queue.consume(concurrency, (bytes) => {
          const body = JSON.parse(bytes.toString('utf8')) as LatencyBody;
          latency.record(body.due);
          progress.tick();
        });
        const start = performance.now();
        await sendOnSchedule(messages, rate, bodyBytes, (body) =>
          queue.send([Buffer.from(JSON.stringify(body), 'utf8')]),
        );
        await progress.done;
        return { messages, elapsedMs: performance.now() - start, latencyMs: latency.summary() };
      } finally {
        await queue.close(true);
      }
    },
  };

  return {
    name: `${target.adapter}/latency`,
    description: `send → handler latency at a steady ${rate.toLocaleString('en-US')} msg/s for ${seconds} s (open loop), ${bodyBytes}-byte JSON, concurrency ${concurrency}`,
    messages: rate * seconds,
    warmupMessages: rate,
    omnibus,
    baseline: raw,
    targets: { latencyP99MarginMs: 1 },
  };
}
