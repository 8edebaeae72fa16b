/** `omnibus doctor`: connects, prints the capabilities, does a round trip on a temporary topic with its latency, cleans up, and explains what failed. */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type Bus, type Capabilities, OmnibusError, redact } from '@omnibus/core';
import type { Command } from 'commander';
import type { CommandContext } from './command-context.js';
import type { CommandRunner } from './command-runner.js';
import { diagnosis, EXIT, messageOf, UsageError } from './failure.js';
import { parseDuration } from './parse-input.js';

interface DoctorOptions {
  timeout?: string;
}

/** One step of the check and how it went. */
interface StepResult {
  step: string;
  ok: boolean;
  ms: number;
  detail?: string;
  error?: string;
  code?: string;
  diagnosis?: string;
}

/** Adds `doctor` to the program. */
export function addDoctorCommand(program: Command, runner: CommandRunner): void {
  program
    .command('doctor')
    .summary('check the connection: capabilities, a round trip with its latency')
    .description(
      'Loads the adapter for the URL, prints what it can do, then creates a temporary topic and ' +
        'subscription (doctor-<random>, under --prefix), sends one message, receives and acks it, ' +
        'prints the latencies, and deletes both. A failed step is explained from its error code: ' +
        'unreachable, auth, wrong protocol, missing permissions, a missing package. Exit code 1 when ' +
        'any step failed.',
    )
    .option('--timeout <duration>', 'how long to wait for the message to come back', '15s')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus doctor --url amqp://user:pass@rabbit:5672\n  $ OMNIBUS_URL=redis://localhost:6379 omnibus doctor --json',
    )
    .action(
      runner.action(async (context, command) => {
        const options = command.opts<DoctorOptions>();
        const timeoutMs = parseDuration('--timeout', options.timeout ?? '15s');
        // 0 would fail the round trip before the message could come back: a verdict on no wait.
        if (timeoutMs === 0)
          throw new UsageError(
            `--timeout ${JSON.stringify(options.timeout)} must be more than 0 (e.g. 15s)`,
          );
        return doctor(context, timeoutMs);
      }),
    );
}

async function doctor(context: CommandContext, timeoutMs: number): Promise<number> {
  const { output } = context;
  const url = redact(context.brokerUrl());
  const steps: StepResult[] = [];
  const step = async <T>(name: string, run: () => Promise<T>, detail?: (value: T) => string) => {
    const started = performance.now();
    try {
      const value = await run();
      const result: StepResult = { step: name, ok: true, ms: elapsed(started) };
      if (detail !== undefined) result.detail = detail(value);
      steps.push(result);
      if (!output.json) printStep(context, result);
      return value;
    } catch (error) {
      const result: StepResult = {
        step: name,
        ok: false,
        ms: elapsed(started),
        error: messageOf(error),
        diagnosis: diagnosis(error),
      };
      if (OmnibusError.isInstance(error)) result.code = error.code;
      steps.push(result);
      if (!output.json) printStep(context, result);
      throw error;
    }
  };

  if (!output.json) output.line(`broker   ${url}`);
  let bus: Bus | undefined;
  let capabilities: Capabilities | undefined;
  let latencyMs: number | undefined;
  try {
    bus = await step(
      'connect',
      () => context.bus(),
      (value) => `adapter ${value.adapter}`,
    );
    capabilities = bus.capabilities;
    if (!output.json) printCapabilities(context, capabilities);
    latencyMs = await roundTrip(bus, step, timeoutMs);
  } catch {
    // Each failed step was reported as it failed; the summary below gives the verdict.
  }
  const ok = steps.every((result) => result.ok);
  if (output.json) {
    output.record({
      ok,
      url,
      adapter: bus?.adapter ?? null,
      capabilities: capabilities ?? null,
      latencyMs: latencyMs ?? null,
      steps,
    });
  } else if (ok) {
    output.line(output.color.green(`ok: round trip in ${latencyMs} ms`));
  } else {
    output.line(output.color.red('failed: see the step marked ✗ above'));
  }
  return ok ? EXIT.ok : EXIT.failed;
}

type Step = <T>(name: string, run: () => Promise<T>, detail?: (value: T) => string) => Promise<T>;

async function roundTrip(bus: Bus, step: Step, timeoutMs: number): Promise<number> {
  const suffix = randomBytes(4).toString('hex');
  const topic = `doctor-${suffix}`;
  const subscription = `doctor-${suffix}`;
  let declared = false;
  try {
    await step(
      'declare',
      () => bus.declare(topic, { [subscription]: { deadLetter: false } }),
      () => `temporary topic and subscription ${topic}`,
    );
    declared = true;
    const consumer = bus.consumer(topic, subscription, { deadLetter: false });
    await step('subscribe', () => consumer.ready());
    const sentAt = performance.now();
    const id = await step(
      'publish',
      () => bus.producer(topic).send({ doctor: true, sentAt: new Date().toISOString() }),
      (value) => `message ${value} accepted`,
    );
    return await step(
      'receive',
      () => receiveOne(consumer, id, timeoutMs, sentAt),
      (value) => `round trip ${value} ms (send to delivery)`,
    );
  } finally {
    const cleanUp = async () => {
      await bus.deleteSubscription(topic, subscription);
      await bus.deleteTopic(topic);
    };
    // After a failed declare part of it may exist (a topic created, its subscription refused):
    // remove it quietly, as a step only once declare worked (then a failure to clean up matters).
    if (declared) await step('clean up', cleanUp, () => `deleted ${topic}`).catch(() => {});
    else await cleanUp().catch(() => {});
  }
}

async function receiveOne(
  consumer: ReturnType<Bus['consumer']>,
  id: string,
  timeoutMs: number,
  sentAt: number,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `the message was accepted but did not come back within ${timeoutMs} ms (a broker that drops it, or a very slow one)`,
        ),
      );
    }, timeoutMs);
  });
  const received = (async () => {
    for await (const message of consumer.messages()) {
      await message.ack();
      if (message.id === id) return elapsed(sentAt);
    }
    throw new Error('the consumer stopped before the message came back');
  })();
  try {
    return await Promise.race([received, timedOut]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
}

function printStep(context: CommandContext, result: StepResult): void {
  const { output } = context;
  const mark = result.ok ? output.color.green('✓') : output.color.red('✗');
  const detail = result.ok ? (result.detail === undefined ? '' : `  ${result.detail}`) : '';
  output.line(`${mark} ${result.step.padEnd(10)} ${String(result.ms).padStart(6)} ms${detail}`);
  if (!result.ok) {
    output.line(`    ${output.color.red(result.error ?? '')}`);
    output.line(`    → ${result.diagnosis ?? ''}`);
  }
}

function printCapabilities(context: CommandContext, capabilities: Capabilities): void {
  const { output } = context;
  const yesNo = (value: boolean) => (value ? 'yes' : 'no');
  const stats = Object.entries(capabilities.stats)
    .map(
      ([key, value]) =>
        `${key} ${value === 'approximate' ? 'approximate' : value ? 'exact' : 'unknown'}`,
    )
    .join(', ');
  const admin = capabilities.deadLetterAdmin;
  output.line('capabilities');
  output.fields([
    ['  fan-out', yesNo(capabilities.fanout)],
    ['  ordering', yesNo(capabilities.ordering)],
    [
      '  delayed delivery',
      capabilities.delayedDelivery === false ? 'no' : `up to ${capabilities.delayedDelivery} ms`,
    ],
    ['  nack delay', `up to ${capabilities.nackDelayMaxMs} ms`],
    ['  attempts', capabilities.attempts],
    ['  ack confirmed', yesNo(capabilities.ackConfirmed)],
    ['  max message', `${capabilities.maxMessageBytes} bytes`],
    ['  max batch', String(capabilities.maxBatchSize)],
    [
      '  lease',
      `${capabilities.ackDeadline.minMs}–${capabilities.ackDeadline.maxMs} ms, extension ${capabilities.leaseExtension}`,
    ],
    ['  stats', stats],
    ['  dlq peek', admin.peek],
    ['  dlq count', admin.count],
    ['  dlq redrive', `to the ${admin.redrive}`],
    [
      '  native DLQ limit',
      capabilities.nativeDeadLetter === false
        ? 'none (core dead-letters)'
        : `${capabilities.nativeDeadLetter.minAttempts}–${capabilities.nativeDeadLetter.maxAttempts} attempts`,
    ],
  ]);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
