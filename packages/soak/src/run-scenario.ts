// Runs one soak scenario: a producer, consumers, the scenario's faults, then the ledger's verdict.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Bus, type ConsumerOptions, connect, type Message } from '@omnibus/core';
import { waitUntil } from '@omnibus/test-brokers';
import type { ChildConsumerConfig, ChildReport } from './consumer-protocol.ts';
import type { ScenarioName } from './scenario-name.ts';
import type { SoakEnvironment } from './soak-target.ts';
import { Tally, type TallySummary } from './tally.ts';

/** How one scenario ended. */
export type ScenarioStatus = 'ok' | 'lost' | 'error' | 'n/a';

/** One scenario's figures: the table row and the `SOAK {json}` line. */
export interface ScenarioReport extends Partial<TallySummary> {
  readonly adapter: string;
  readonly scenario: ScenarioName;
  readonly messages: number;
  readonly status: ScenarioStatus;
  /** Why the scenario doesn't apply, or what went wrong. */
  readonly note?: string;
  readonly durationMs?: number;
  /** Errors the consumers reported through `onError` (receive, ack, lease renewal). */
  readonly consumerErrors?: number;
  /** The faults injected, in order. */
  readonly faults?: readonly string[];
}

/** Knobs shared by every scenario of a run. */
export interface ScenarioSettings {
  readonly messages: number;
  /** Stop waiting for stragglers after this long without a newly handled message. */
  readonly idleTimeoutMs: number;
}

const SUBSCRIPTION = 'workers';
const BATCH = 50;
const CONSUMER_OPTIONS = {
  concurrency: 16,
  maxAttempts: 5,
  // The portable minimum: a killed consumer's messages come back after 10 s.
  ackDeadlineMs: 10_000,
  shutdownTimeoutMs: 10_000,
  retry: { initialDelayMs: 10, maxDelayMs: 200 },
} as const;
const CHILD_FILE = fileURLToPath(new URL('./consumer-child.ts', import.meta.url));

interface RunningConsumer {
  /** Graceful: `consumer.stop()` then `bus.close()`. */
  stop(): Promise<void>;
  /** SIGKILL (child consumers only). */
  kill(): Promise<void>;
}

interface Plan {
  failureRate: number;
  workMs: number;
  inChild: boolean;
  /** Faults to inject, each once the resolved sends reach its fraction of the messages. */
  faults: { atFraction: number; inject: (run: Run) => Promise<void> }[];
}

/** What the scenario does, given the broker it runs on. */
function planFor(scenario: ScenarioName, environment: SoakEnvironment): Plan {
  // 2 ms of work per message at concurrency 16 keeps the handlers slower than the producer, so
  // each fault meets a consumer with a backlog (up to the producer's window) and work in flight.
  const base: Plan = { failureRate: 0, workMs: 2, inChild: false, faults: [] };
  const restart = async (run: Run) => {
    run.tally.fault(environment.persistent ? 'restart (persistent)' : 'restart (not persistent)');
    run.faultBegins();
    await environment.restartBroker?.();
    run.faultEnds();
    if (!environment.persistent) run.tally.wipedBefore(Date.now());
  };
  switch (scenario) {
    case 'handler-failures':
      return { ...base, failureRate: 0.05 };
    case 'consumer-sigkill': {
      const killAndReplace = async (run: Run) => {
        run.tally.fault('SIGKILL consumer process');
        run.faultBegins();
        await run.consumer?.kill();
        // The replacement's start-up is part of the recovery.
        run.faultEnds();
        run.consumer = await run.startConsumer();
      };
      return {
        ...base,
        inChild: true,
        faults: [
          { atFraction: 0.3, inject: killAndReplace },
          { atFraction: 0.6, inject: killAndReplace },
        ],
      };
    }
    case 'connection-kills': {
      const kill = async (run: Run) => {
        run.tally.fault('kill every client connection');
        run.faultBegins();
        await environment.killConnections?.();
        run.faultEnds();
      };
      return {
        ...base,
        faults: [0.25, 0.5, 0.75].map((atFraction) => ({ atFraction, inject: kill })),
      };
    }
    case 'restart-persistent':
    case 'restart-not-persistent':
      return { ...base, faults: [{ atFraction: 0.4, inject: restart }] };
    case 'stop-under-load': {
      const stopAndReplace = async (run: Run) => {
        run.tally.fault('consumer.stop() under load');
        run.faultBegins();
        await run.consumer?.stop();
        run.faultEnds();
        run.consumer = await run.startConsumer();
      };
      return {
        ...base,
        faults: [
          { atFraction: 0.3, inject: stopAndReplace },
          { atFraction: 0.6, inject: stopAndReplace },
        ],
      };
    }
  }
}

/** The state of one scenario while it runs. */
interface Run {
  readonly tally: Tally;
  /** The producer sends no sequence number at or above this (see `faultBegins`/`faultEnds`). */
  sendLimit: number;
  /** The fault `run.tally.fault()` just marked has begun: a few more sends may go during it. */
  faultBegins(): void;
  /** The fault is over: the producer may go on to the next fault's mark. */
  faultEnds(): void;
  consumer: RunningConsumer | undefined;
  startConsumer(): Promise<RunningConsumer>;
}

function startChildConsumer(
  config: ChildConsumerConfig,
  tally: Tally,
  onError: () => void,
): Promise<RunningConsumer> {
  const child: ChildProcess = fork(CHILD_FILE, [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (report: ChildReport) => {
    if (report.type === 'handled') tally.handled(report.seq, report.at);
    else if (report.type === 'failed') tally.injectedFailures += 1;
    else if (report.type === 'error') onError();
  });
  const handle: RunningConsumer = {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.send({ type: 'stop' });
      await exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const onReady = (report: ChildReport) => {
      if (report.type !== 'ready') return;
      child.off('message', onReady);
      resolve(handle);
    };
    child.on('message', onReady);
    void exited.then(() => reject(new Error('the consumer process exited before it was ready')));
  });
}

async function startInProcessConsumer(
  url: string,
  topic: string,
  plan: Plan,
  tally: Tally,
  onError: () => void,
): Promise<RunningConsumer> {
  const bus = await connect(url);
  const options: ConsumerOptions<{ seq: number }> = { ...CONSUMER_OPTIONS, onError };
  const consumer = bus.consumer<{ seq: number }>(topic, SUBSCRIPTION, options);
  await consumer.start(async (message: Message<{ seq: number }>) => {
    if (plan.failureRate > 0 && Math.random() < plan.failureRate) {
      tally.injectedFailures += 1;
      throw new Error('soak: injected handler failure');
    }
    if (plan.workMs > 0) await delay(plan.workMs);
    tally.handled(message.body.seq);
  });
  return {
    async stop() {
      await consumer.stop();
      await bus.close();
    },
    async kill() {
      throw new Error('an in-process consumer cannot be SIGKILLed');
    },
  };
}

/** Sends every sequence number in batches, keeping about `window` ahead of the handlers. */
async function produce(
  bus: Bus,
  topic: string,
  run: Run,
  deadline: number,
  signal: AbortSignal,
): Promise<void> {
  const { tally } = run;
  const producer = bus.producer<{ seq: number }>(topic);
  const window = Math.max(200, Math.ceil(tally.messages / 10));
  for (let first = 0; first < tally.messages; first += BATCH) {
    // Hold at the next fault's mark until it begins: every fault then strikes mid-stream, with
    // the rest of the stream sent during and after it.
    signal.throwIfAborted();
    await waitUntil(
      () => first < run.sendLimit || signal.aborted,
      'the next fault to begin',
      Math.max(1, deadline - Date.now()),
      5,
    );
    // Flow control, not a condition: after a second without room it sends anyway, so the
    // producer keeps sending through an outage (and after a restart that wiped the backlog).
    await waitUntil(() => tally.backlog < window, 'room', 1_000, 5).catch(() => undefined);
    const seqs = Array.from(
      { length: Math.min(BATCH, tally.messages - first) },
      (_, index) => first + index,
    );
    const entries = seqs.map((seq) => ({ body: { seq }, id: `${topic}-${seq}` }));
    for (;;) {
      const startedAt = Date.now();
      for (const seq of seqs) tally.sendStarted(seq, startedAt);
      try {
        await producer.sendBatch(entries);
        const resolvedAt = Date.now();
        for (const seq of seqs) tally.sendResolved(seq, resolvedAt);
        break;
      } catch (error) {
        tally.sendErrors += 1;
        if (Date.now() > deadline || signal.aborted) throw error;
        // A user's retry of a rejected send: same ids, so a batch that did land is a duplicate
        // the consumer sees twice, never a loss.
        await delay(100);
      }
    }
  }
}

async function countDeadLetters(bus: Bus, topic: string, tally: Tally): Promise<void> {
  const deadLetters = bus.deadLetters<{ seq: number }>(topic, SUBSCRIPTION);
  const count = await deadLetters.count();
  if (count === 0) return;
  for (const letter of await deadLetters.peek(count)) {
    const body = letter.body as { seq?: unknown };
    if (typeof body.seq === 'number') tally.deadLettered(body.seq);
  }
}

/** Waits for `promise` (its failure ignored) at most `ms`: clean-up must not hang a run. */
async function bounded(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (promise === undefined) return;
  const timer = delay(ms);
  await Promise.race([promise.catch(() => undefined), timer]);
}

/** Runs `scenario` on `environment` and reports its figures; never throws. */
export async function runScenario(
  adapter: string,
  scenario: ScenarioName,
  environment: SoakEnvironment,
  settings: ScenarioSettings,
): Promise<ScenarioReport> {
  const { messages } = settings;
  const began = Date.now();
  // Generous for a 2-core machine: a healthy run ends long before, a stuck one by itself.
  const deadline = began + 60_000 + messages * 20;
  const topic = `soak-${scenario}-${randomBytes(4).toString('hex')}`;
  const tally = new Tally(messages);
  const plan = planFor(scenario, environment);
  let consumerErrors = 0;
  const onError = () => {
    consumerErrors += 1;
  };
  const config: ChildConsumerConfig = {
    url: environment.url,
    topic,
    subscription: SUBSCRIPTION,
    failureRate: plan.failureRate,
    workMs: plan.workMs,
    consumerOptions: CONSUMER_OPTIONS,
  };
  const marks = plan.faults.map((fault) => Math.floor(messages * fault.atFraction));
  // Sends that go on while a fault is under way; the rest of the stream waits for its end, so
  // that there are always messages sent after it to measure recovery with.
  const duringFault = Math.max(BATCH, Math.floor(messages / 50));
  let nextMark = 0;
  const run: Run = {
    tally,
    sendLimit: marks[0] ?? messages,
    faultBegins() {
      nextMark += 1;
      run.sendLimit = Math.min(run.sendLimit + duringFault, marks[nextMark] ?? messages);
    },
    faultEnds() {
      tally.faultEnded();
      run.sendLimit = marks[nextMark] ?? messages;
    },
    consumer: undefined,
    startConsumer: () =>
      plan.inChild
        ? startChildConsumer(config, tally, onError)
        : startInProcessConsumer(environment.url, topic, plan, tally, onError),
  };
  let producerBus: Bus | undefined;
  // Ends the producer when the scenario ends early (a fault that failed), so it doesn't go on
  // retrying into a closed bus until the deadline.
  const producerStop = new AbortController();
  try {
    producerBus = await connect(environment.url);
    // The subscription exists before the first send: "a message sent after ready() is never missed".
    run.consumer = await run.startConsumer();
    const producing = produce(producerBus, topic, run, deadline, producerStop.signal);
    producing.catch(() => undefined);

    for (const fault of plan.faults) {
      // The producer holds at the mark; the fault strikes as soon as it gets there, while the
      // handlers still work through the backlog, and the rest of the stream follows it.
      await waitUntil(
        () =>
          tally.sentCount >= Math.floor(messages * fault.atFraction) &&
          tally.handledCountDistinct > 0,
        `${Math.round(fault.atFraction * 100)} % of the messages to be sent`,
        Math.max(1, deadline - Date.now()),
        5,
      );
      await fault.inject(run);
    }
    await producing;

    // Wait for every resolved send to be handled or dead-lettered; give up after a quiet spell.
    let lastHandled = -1;
    let lastProgressAt = Date.now();
    let lastDeadLetterCheck = 0;
    while (!tally.complete()) {
      const now = Date.now();
      if (tally.handledCountDistinct !== lastHandled) {
        lastHandled = tally.handledCountDistinct;
        lastProgressAt = now;
      }
      if (now - lastProgressAt > settings.idleTimeoutMs || now > deadline) break;
      if (now - lastDeadLetterCheck > 1_000) {
        lastDeadLetterCheck = now;
        // A broker that is restarting can't count: the next round asks again.
        await countDeadLetters(producerBus, topic, tally).catch(() => undefined);
      }
      await delay(20);
    }
    await run.consumer?.stop();
    run.consumer = undefined;
    const bus = producerBus;
    await waitUntil(
      () => countDeadLetters(bus, topic, tally).then(() => true),
      'the dead-letter queue to be counted',
      15_000,
      250,
    );
    const summary = tally.summary();
    return {
      adapter,
      scenario,
      messages,
      status: summary.lost > 0 ? 'lost' : 'ok',
      ...summary,
      durationMs: Date.now() - began,
      consumerErrors,
      faults: tally.faults.map((fault) => fault.what),
    };
  } catch (error) {
    return {
      adapter,
      scenario,
      messages,
      status: 'error',
      note: error instanceof Error ? error.message : String(error),
      ...tally.summary(),
      durationMs: Date.now() - began,
      consumerErrors,
      faults: tally.faults.map((fault) => fault.what),
    };
  } finally {
    producerStop.abort();
    const consumer = run.consumer;
    await bounded(
      consumer?.kill().catch(() => consumer.stop()),
      15_000,
    );
    await bounded(producerBus?.close(), 15_000);
  }
}
