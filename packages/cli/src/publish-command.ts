/** `omnibus publish <topic> [body]`: one message from the argument, or one per stdin line (NDJSON envelopes, or `--raw` bodies); prints the ids. */
import type { Producer, SendOptions } from '@omnibus/core';
import type { Command } from 'commander';
import { byteLines } from './byte-lines.js';
import type { CommandContext } from './command-context.js';
import type { CommandRunner } from './command-runner.js';
import { EXIT, messageOf, UsageError } from './failure.js';
import { collectAttribute, parseDuration } from './parse-input.js';

interface PublishOptions {
  raw?: boolean;
  attr?: Record<string, string>;
  key?: string;
  delay?: string;
  id?: string;
}

/** One message to send: its body and send options. */
interface Outgoing {
  readonly body: unknown;
  readonly options: SendOptions;
}

// Sends in flight at most while reading stdin: enough for core to coalesce them into broker
// batches, few enough that a huge input doesn't sit in memory.
const WINDOW = 256;
const ENVELOPE_KEYS = new Set(['body', 'attributes', 'key', 'orderingKey', 'delayMs', 'id']);

/** Adds `publish` to the program. */
export function addPublishCommand(program: Command, runner: CommandRunner): void {
  program
    .command('publish')
    .summary('send messages to a topic; prints their ids')
    .description(
      'Sends one message whose body is the JSON argument, or, with no body argument, one message per ' +
        'line of stdin: each line an NDJSON envelope {"body": …, "attributes"?: {…}, "key"?: "…", ' +
        '"delayMs"?: n, "id"?: "…"}, or with --raw the line itself as the body (raw bytes). Prints each ' +
        'id once the broker accepted the message. Flags apply to every message; an envelope field wins ' +
        'over its flag. A line that cannot be sent is reported with its number and the rest carry on; ' +
        'the exit code is then 1. A topic with no subscription drops what it gets (declare them first: ' +
        'omnibus declare).',
    )
    .argument('<topic>', 'topic name')
    .argument(
      '[body]',
      'the message body, as JSON ("text" needs its quotes); with --raw, taken as is',
    )
    .option('--raw', 'the body (or each stdin line) is raw bytes, not JSON')
    .option('--attr <name=value>', 'an attribute; repeatable', collectAttribute)
    .option(
      '--key <orderingKey>',
      'the ordering key (orderingKey): messages sharing it reach a subscription created with ' +
        'ordering one at a time, in send order. The SQS FIFO MessageGroupId, the Pub/Sub ordering ' +
        'key; refused (exit 2) where the broker cannot order: Redis, RabbitMQ, SQS standard queues',
    )
    .option('--delay <duration>', 'deliver no sooner than this from now: ms, or 5s, 1m')
    .option('--id <id>', 'message id (one message only; default: a new UUIDv7)')
    .addHelpText(
      'after',
      `
Examples:
  $ omnibus publish orders '{"item":"burger"}' --attr source=cli --key customer-42
  $ omnibus publish orders --raw < lines.txt
  $ printf '%s\\n' '{"body":{"item":"fries"},"attributes":{"source":"replay"}}' | omnibus publish orders --json`,
    )
    .action(
      runner.action(async (context, command) => {
        const [topic, bodyArgument] = command.processedArgs as [string, string | undefined];
        const options = command.opts<PublishOptions>();
        const defaults = defaultSendOptions(options);
        if (bodyArgument !== undefined) {
          const body =
            options.raw === true ? Buffer.from(bodyArgument, 'utf8') : parseBody(bodyArgument);
          if (options.id !== undefined) defaults.id = options.id;
          const bus = await context.bus();
          const id = await bus.producer(topic).send(body, defaults);
          printId(context, id);
          return;
        }
        if (options.id !== undefined)
          throw new UsageError(
            '--id names one message: with messages on stdin, give each line its own "id" field',
          );
        if (context.io.stdin.isTTY === true)
          throw new UsageError(
            'give a body argument, or pipe messages on stdin (one NDJSON envelope per line, or --raw lines)',
          );
        const bus = await context.bus();
        return publishLines(context, bus.producer(topic), options.raw === true, defaults);
      }),
    );
}

function defaultSendOptions(options: PublishOptions): SendOptions {
  const send: SendOptions = {};
  if (options.attr !== undefined) send.attributes = options.attr;
  if (options.key !== undefined) send.orderingKey = options.key;
  if (options.delay !== undefined) send.delayMs = parseDuration('--delay', options.delay);
  return send;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(
      `the body is not JSON: ${JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text)}; ` +
        `quote a string ('"hello"'), or send the text as raw bytes with --raw`,
    );
  }
}

async function publishLines(
  context: CommandContext,
  producer: Producer,
  raw: boolean,
  defaults: SendOptions,
): Promise<number> {
  const { output } = context;
  let failures = 0;
  // Every line's outcome, sent or not, is reported in input order: a line that can't be parsed
  // waits its turn behind the sends still in flight before it.
  const pending: { line: number; sent: Promise<string> }[] = [];
  const settleOldest = async (): Promise<void> => {
    const oldest = pending.shift();
    if (oldest === undefined) return;
    try {
      printId(context, await oldest.sent, oldest.line);
    } catch (error) {
      failures += 1;
      reportLine(context, oldest.line, error);
    }
  };
  let number = 0;
  for await (const bytes of byteLines(context.io.stdin)) {
    number += 1;
    let sent: Promise<string>;
    try {
      if (raw) {
        sent = producer.send(bytes, defaults);
      } else {
        const text = bytes.toString('utf8');
        if (text.trim() === '') continue;
        const message = parseEnvelope(text, defaults);
        sent = producer.send(message.body, message.options);
      }
    } catch (error) {
      sent = Promise.reject(error);
    }
    // send() is called at once (core coalesces sends of one tick into broker batches) and awaited
    // in order below; a rejection is handled there, never left unhandled.
    sent.catch(() => {});
    pending.push({ line: number, sent });
    if (pending.length >= WINDOW) await settleOldest();
  }
  while (pending.length > 0) await settleOldest();
  if (number === 0) output.warn('stdin was empty: nothing sent');
  if (failures > 0) output.error(`${failures} line(s) not sent`);
  return failures > 0 ? EXIT.failed : EXIT.ok;
}

function parseEnvelope(text: string, defaults: SendOptions): Outgoing {
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new UsageError(
      'not JSON (an NDJSON envelope {"body": …}, or use --raw to send lines as they are)',
    );
  }
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    Array.isArray(envelope) ||
    !('body' in envelope)
  )
    throw new UsageError(
      'not an envelope: each line is {"body": …, "attributes"?, "key"?, "delayMs"?, "id"?}',
    );
  const fields = envelope as Record<string, unknown>;
  const unknownKeys = Object.keys(fields).filter((key) => !ENVELOPE_KEYS.has(key));
  if (unknownKeys.length > 0)
    throw new UsageError(
      `unknown envelope field(s) ${unknownKeys.map((key) => JSON.stringify(key)).join(', ')}; known: ${[...ENVELOPE_KEYS].join(', ')}`,
    );
  const options: SendOptions = { ...defaults };
  if (fields.attributes !== undefined) {
    if (typeof fields.attributes !== 'object' || fields.attributes === null)
      throw new UsageError('"attributes" must be an object of strings');
    options.attributes = {
      ...defaults.attributes,
      ...(fields.attributes as Record<string, string>),
    };
  }
  const key = fields.key ?? fields.orderingKey;
  if (key !== undefined) options.orderingKey = key as string;
  if (fields.delayMs !== undefined) options.delayMs = fields.delayMs as number;
  if (fields.id !== undefined) options.id = fields.id as string;
  // Core checks the types and bounds of each (InvalidArgument naming the field) before any I/O.
  return { body: fields.body, options };
}

function printId(context: CommandContext, id: string, line?: number): void {
  if (context.output.json) context.output.record(line === undefined ? { id } : { id, line });
  else context.output.line(id);
}

function reportLine(context: CommandContext, line: number, error: unknown): void {
  const message = messageOf(error);
  if (context.output.json) context.output.record({ line, error: message });
  context.output.error(`line ${line}: ${message}`);
}
