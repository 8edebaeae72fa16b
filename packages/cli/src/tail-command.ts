/** `omnibus tail <topic> [subscription]`: prints messages as they arrive, through a temporary subscription removed on exit where the broker fans out. */
import { randomBytes } from 'node:crypto';
import {
  type Bus,
  type Consumer,
  type ConsumerOptions,
  type Message,
  OmnibusError,
} from '@omnibus/core';
import type { Command } from 'commander';
import type { CommandContext } from './command-context.js';
import type { CommandRunner } from './command-runner.js';
import { EXIT, messageOf, UsageError, wasInterrupted } from './failure.js';
import { attributesText, bodyRecord, bodyText } from './format-body.js';
import { parseWholeNumber } from './parse-input.js';

/** What the name of every temporary subscription of tail starts with, to recognise leftovers by. */
export const TEMPORARY_PREFIX = 'omnibus-tail-';

interface TailOptions {
  count?: string;
  maxAttempts?: string;
  deadLetter?: boolean;
  ordering?: boolean;
}

/** Adds `tail` to the program. */
export function addTailCommand(program: Command, runner: CommandRunner): void {
  program
    .command('tail')
    .summary('print messages of a topic as they arrive')
    .description(
      'Prints each message sent to the topic from now on, one per line (or NDJSON with --json), ' +
        'until Ctrl-C or --count messages. Without a subscription it reads through a temporary ' +
        `subscription of its own (${TEMPORARY_PREFIX}<random>), removed on exit, so the topic's consumers ` +
        'are not disturbed; that needs a broker that fans out (not SQS queue mode). Its name is printed ' +
        'on stderr first: if tail is killed (SIGKILL) before it can remove it, remove it with omnibus ' +
        'delete <topic> <name>. With a subscription it ' +
        'reads from it and acks what it printed, once the write succeeded: those messages do not reach its ' +
        'other consumers; one it could not write (the reader closed the pipe) is handed back (released, ' +
        'not counted as an attempt), not acked. ' +
        'The line "tailing …" on stderr says when it is ready.',
    )
    .argument('<topic>', 'topic name')
    .argument(
      '[subscription]',
      'an existing subscription to read from (its messages are acked; tail never creates it: NotFound, exit 1)',
    )
    .option('--count <n>', 'exit after printing this many messages')
    .option(
      '--max-attempts <n>',
      "with a subscription: its maxAttempts, if not the default 5 (a subscription's settings are fixed)",
    )
    .option('--no-dead-letter', 'with a subscription: it was created without a DLQ')
    .option('--ordering', 'with a subscription: it was created with ordering')
    .option('--no-ordering', 'with a subscription: it was created without ordering')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus tail orders\n  $ omnibus tail orders --count 1 --json | jq .body',
    )
    .action(
      runner.action(async (context, command) => {
        const [topic, subscription] = command.processedArgs as [string, string | undefined];
        const options = command.opts<TailOptions>();
        const count =
          options.count === undefined ? undefined : parseWholeNumber('--count', options.count);
        runner.handleInterrupt();
        const bus = await context.bus();
        if (subscription === undefined && !bus.capabilities.fanout)
          throw new UsageError(
            `${bus.adapter} (this connection) does not fan out: a temporary subscription would not see the topic's messages; name the subscription to read from`,
          );
        return tail(context, bus, topic, subscription, count, subscriptionSettings(options));
      }),
    );
}

async function tail(
  context: CommandContext,
  bus: Bus,
  topic: string,
  subscription: string | undefined,
  count: number | undefined,
  settings: ConsumerOptions,
): Promise<number> {
  const { output, signal } = context;
  const temporary =
    subscription === undefined ? `${TEMPORARY_PREFIX}${randomBytes(4).toString('hex')}` : undefined;
  const name = subscription ?? temporary ?? '';
  // A temporary subscription needs no DLQ: nothing it reads fails (tail acks what it printed).
  const consumer: Consumer = bus.consumer(
    topic,
    name,
    temporary === undefined ? settings : { deadLetter: false },
  );
  let printed = 0;
  // Named before it exists: a tail killed outright leaves it behind, and this says what to delete.
  if (temporary !== undefined)
    output.note(
      `temporary subscription ${temporary} of ${topic}; if tail is killed before it removes it: ` +
        `omnibus delete ${topic} ${temporary}${context.options.prefix === undefined ? '' : ` --prefix ${context.options.prefix}`} --yes`,
    );
  // ready() would create a subscription that does not exist: a typo must not leave a durable one
  // behind. stats() answers NotFound for it, as `omnibus stats` does, creating nothing.
  if (temporary === undefined) await consumer.stats();
  try {
    try {
      await consumer.ready();
    } catch (error) {
      if (
        OmnibusError.isInstance(error) &&
        error.code === 'AlreadyExists' &&
        temporary === undefined
      )
        output.note(
          `hint: give tail the subscription's settings: --max-attempts N, --no-dead-letter, --[no-]ordering`,
        );
      throw error;
    }
    output.note(
      temporary === undefined
        ? `tailing ${topic} through subscription ${name}: what is printed is acked (Ctrl-C to stop)`
        : `tailing ${topic} through temporary subscription ${name}, removed on exit (Ctrl-C to stop)`,
    );
    if (!signal.aborted) {
      const stop = () => void consumer.stop();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const message of consumer.messages()) {
          try {
            await printMessage(context, message);
          } catch (error) {
            // Not written (the reader closed the pipe): it must not be acked. Released, it comes
            // back now without using an attempt: failing to print it is no fault of the message.
            await message.release();
            output.note(
              `stopped: output failed (${messageOf(error)}); message ${message.id} was handed back, not acked`,
            );
            break;
          }
          await message.ack();
          printed += 1;
          if (count !== undefined && printed >= count) break;
          if (signal.aborted) break;
        }
      } finally {
        signal.removeEventListener('abort', stop);
        // Releases what was received but not printed: it was not acked, so it is not lost.
        await consumer.stop();
      }
    }
  } finally {
    if (temporary !== undefined) await removeTemporary(context, bus, topic, temporary);
  }
  if (signal.aborted) output.note(`stopped after ${printed} message(s)`);
  // Ctrl-C/SIGTERM: 130, as for any interrupted command; --count reached or the reader gone: done.
  return wasInterrupted(signal) ? EXIT.interrupted : EXIT.ok;
}

// Core checks a consumer's settings against the subscription's, fixed at creation: reading an
// existing subscription takes the same ones, which only the operator knows.
function subscriptionSettings(options: TailOptions): ConsumerOptions {
  const settings: ConsumerOptions = {};
  if (options.maxAttempts !== undefined)
    settings.maxAttempts = parseWholeNumber('--max-attempts', options.maxAttempts);
  if (options.deadLetter === false) settings.deadLetter = false;
  if (options.ordering !== undefined) settings.ordering = options.ordering;
  return settings;
}

async function removeTemporary(
  context: CommandContext,
  bus: Bus,
  topic: string,
  subscription: string,
): Promise<void> {
  try {
    await bus.deleteSubscription(topic, subscription);
  } catch (error) {
    context.output.warn(
      `could not remove the temporary subscription ${subscription} of ${topic}: ${messageOf(error)}`,
    );
  }
}

/** Writes one message; resolves once stdout has taken it, rejects if it could not. */
function printMessage(context: CommandContext, message: Message): Promise<void> {
  const { output } = context;
  if (output.json) {
    return output.recordWritten({
      id: message.id,
      publishedAt: message.publishedAt.toISOString(),
      attempt: message.attempt,
      orderingKey: message.orderingKey ?? null,
      attributes: message.attributes,
      ...bodyRecord(message.body),
    });
  }
  const details = [
    message.orderingKey === undefined ? '' : `key=${message.orderingKey}`,
    attributesText(message.attributes),
    message.attempt > 1 ? `attempt=${message.attempt}` : '',
  ].filter((part) => part !== '');
  return output.lineWritten(
    [
      output.color.dim(message.publishedAt.toISOString()),
      output.color.cyan(message.id),
      bodyText(message.body),
      ...details.map((detail) => output.color.dim(detail)),
    ].join('  '),
  );
}
