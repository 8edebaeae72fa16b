/** `omnibus dlq list|show|count|redrive|purge <topic> <subscription>`: the dead-letter queue of a subscription, on the ops API's selection. */
import type {
  Bus,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterNotFound,
  DeadLetterReport,
  DeadLetterResult,
} from '@omnibus/core';
import type { Command } from 'commander';
import type { CommandContext } from './command-context.js';
import type { CommandRunner } from './command-runner.js';
import { confirmAction } from './confirm-action.js';
import { EXIT, UsageError } from './failure.js';
import { attributesText, bodyRecord, bodyText } from './format-body.js';
import {
  checkMessageId,
  collect,
  parseIdLines,
  parseRate,
  parseReason,
  parseTime,
  parseWholeNumber,
} from './parse-input.js';
import { startProgress } from './progress.js';

interface SelectionOptions {
  id?: string[];
  reason?: string;
  failedBefore?: string;
  failedAfter?: string;
  limit?: string;
}

interface ActionOptions extends SelectionOptions {
  dryRun?: boolean;
  yes?: boolean;
  rate?: string;
  maxRedrives?: string;
}

type Action = 'redrive' | 'purge';

const LIST_LIMIT = 50;
const SHOW_LIMIT = 10;

/** Adds `dlq` and its subcommands to the program. */
export function addDlqCommand(program: Command, runner: CommandRunner): void {
  const dlq = program
    .command('dlq')
    .summary('dead letters of a subscription: list, show, count, redrive, purge')
    .description(
      'The dead-letter queue of one subscription. list, show, redrive and purge select letters by ' +
        '--id (repeatable; --id - reads ids from stdin, one a line or NDJSON records with "id", as ' +
        '--json output prints them), --reason (case-insensitive text, or /regex/), --failed-before, ' +
        '--failed-after (an ISO time, or how long ago: 2h) and --limit; they act only on letters ' +
        "present when they start. redrive hands letters back to the subscription's consumers (same " +
        'id, ordering key and attributes; attempts start again at 1) and refuses one already redriven ' +
        '--max-redrives times (a loop guard). Every letter gets its own result, and one failure does ' +
        'not stop the rest; the exit code is 1 if any letter failed or was refused.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ omnibus dlq count orders kitchen
  $ omnibus dlq list orders kitchen --reason timeout --failed-after 2h
  $ omnibus dlq redrive orders kitchen --reason timeout --dry-run
  $ omnibus dlq list orders kitchen --reason /^schema/ --json | omnibus dlq purge orders kitchen --id - --yes`,
    );

  selectionCommand(dlq, 'list', 'list dead letters: id, failure time, attempts, redrives, reason')
    .description(
      `Lists the selected dead letters, left in place (at most --limit, default ${LIST_LIMIT}), in the order the DLQ returns them: ` +
        'oldest first on Redis, RabbitMQ and memory; SQS standard queues and Pub/Sub use their own order.',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ omnibus dlq list orders kitchen --reason "card declined" --limit 20',
    )
    .action(runner.action((context, command) => listLetters(context, command, 'list')));
  selectionCommand(dlq, 'show', 'show dead letters in full: reason, attributes, body')
    .description(
      `Prints the selected dead letters in full: reason, attempts, redrives, times, ordering key, attributes and body (at most --limit, default ${SHOW_LIMIT}).`,
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ omnibus dlq show orders kitchen --id 0193e4c2-7d3a-7b41-9f0e-2c5d8a1b3f47',
    )
    .action(runner.action((context, command) => listLetters(context, command, 'show')));
  dlq
    .command('count')
    .summary('how many dead letters the subscription has')
    .description(
      'Prints how many dead letters the DLQ holds (approximate where the broker says so).',
    )
    .argument('<topic>', 'topic name')
    .argument('<subscription>', 'subscription name')
    .addHelpText('after', '\nExample:\n  $ omnibus dlq count orders kitchen --json')
    .action(runner.action((context, command) => countLetters(context, command)));
  actionCommand(dlq, 'redrive', 'hand selected dead letters back to the subscription')
    .option(
      '--max-redrives <n>',
      'loop guard: refuse a letter already redriven this many times (default 3)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus dlq redrive orders kitchen --reason timeout --dry-run\n  $ omnibus dlq redrive orders kitchen --reason timeout --rate 50 --yes',
    )
    .action(
      runner.action((context, command) => {
        runner.handleInterrupt();
        return actOnLetters(context, command, 'redrive');
      }),
    );
  actionCommand(dlq, 'purge', 'delete selected dead letters for good')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus dlq purge orders kitchen --failed-before 7d --dry-run\n  $ omnibus dlq purge orders kitchen --id 0193e4c2-7d3a-7b41-9f0e-2c5d8a1b3f47 --yes',
    )
    .action(
      runner.action((context, command) => {
        runner.handleInterrupt();
        return actOnLetters(context, command, 'purge');
      }),
    );
}

// Subcommands are made with dlq.command(), which copies the program's settings down (usage errors
// exit 2 through exitOverride, output streams, help with the global options); addCommand() of a
// new Command() would not.
function selectionCommand(dlq: Command, name: string, summary: string): Command {
  return dlq
    .command(name)
    .summary(summary)
    .argument('<topic>', 'topic name')
    .argument('<subscription>', 'subscription name')
    .option('--id <id>', 'a message id; repeatable; "-" reads ids from stdin', collect)
    .option('--reason <text>', 'reason contains this text (any case), or matches /regex/flags')
    .option('--failed-before <time>', 'dead-lettered before: ISO time, or how long ago (2h, 7d)')
    .option('--failed-after <time>', 'dead-lettered after: ISO time, or how long ago (30m)')
    .option(
      '--limit <n>',
      'at most this many letters, the first the DLQ returns (the oldest on Redis, RabbitMQ, memory)',
    );
}

function actionCommand(dlq: Command, name: Action, summary: string): Command {
  return selectionCommand(dlq, name, summary)
    .description(
      `${name === 'redrive' ? 'Redrives' : 'Purges'} the selected dead letters (all of them without a selection), printing one result per letter. ` +
        'Asks first on a terminal; elsewhere it needs --yes (or --dry-run, which changes nothing and prints exactly what it would do).',
    )
    .option('--dry-run', 'change nothing: print what would be done to each letter')
    .option('--yes', 'do it without asking (scripts, cron)')
    .option('--rate <n>', 'at most this many letters per second');
}

/** The selection from the options; `--id -` reads stdin. Throws a UsageError before any I/O. */
async function readFilter(
  context: CommandContext,
  options: SelectionOptions,
  defaultLimit: number | undefined,
): Promise<DeadLetterFilter> {
  const filter: DeadLetterFilter = {};
  if (options.id !== undefined) {
    const fromStdin = options.id.includes('-');
    const ids = options.id.filter((id) => id !== '-');
    for (const id of ids) checkMessageId(id, '--id');
    if (fromStdin) {
      if (context.io.stdin.isTTY === true)
        throw new UsageError('--id - reads ids from stdin, but stdin is a terminal: pipe them in');
      // A loop, not push(...): spreading 100k+ ids overflows the call stack.
      for (const id of parseIdLines(await context.readStdin())) ids.push(id);
    }
    // An empty id list must never widen into "every letter".
    if (ids.length === 0) throw new UsageError('--id - found no ids on stdin: nothing selected');
    filter.ids = [...new Set(ids)];
  }
  if (options.reason !== undefined) filter.reason = parseReason(options.reason);
  if (options.failedBefore !== undefined)
    filter.failedBefore = parseTime('--failed-before', options.failedBefore);
  if (options.failedAfter !== undefined)
    filter.failedAfter = parseTime('--failed-after', options.failedAfter);
  if (
    filter.failedBefore !== undefined &&
    filter.failedAfter !== undefined &&
    filter.failedAfter >= filter.failedBefore
  )
    throw new UsageError(
      '--failed-after must be earlier than --failed-before: nothing could match',
    );
  const limit =
    options.limit === undefined ? defaultLimit : parseWholeNumber('--limit', options.limit);
  if (limit !== undefined) filter.limit = limit;
  return filter;
}

function warnIfCountBumping(context: CommandContext, bus: Bus): void {
  if (bus.capabilities.deadLetterAdmin.peek !== 'count-bumping') return;
  context.output.warn(
    `${bus.adapter} can read a DLQ only by receiving from it: every letter read counts as a receive ` +
      '(its receive count or delivery attempts go up) and is hidden for a moment before it is released.',
  );
}

async function listLetters(
  context: CommandContext,
  command: Command,
  mode: 'list' | 'show',
): Promise<number> {
  const [topic, subscription] = command.processedArgs as [string, string];
  const limit = mode === 'list' ? LIST_LIMIT : SHOW_LIMIT;
  const filter = await readFilter(context, command.opts<SelectionOptions>(), limit);
  const bus = await context.bus();
  const dlq = bus.deadLetters(topic, subscription);
  warnIfCountBumping(context, bus);
  const letters = await dlq.select(filter).list();
  const { output } = context;
  if (output.json) {
    for (const letter of letters) output.record(letterRecord(letter));
  } else if (mode === 'list') {
    output.table(
      ['ID', 'FAILED AT', 'ATTEMPTS', 'REDRIVES', 'KEY', 'REASON'],
      letters.map((letter) => [
        letter.id,
        letter.deadLetteredAt.toISOString(),
        String(letter.attempts),
        String(letter.redrives),
        letter.orderingKey ?? '',
        oneLine(letter.reason, 80),
      ]),
    );
  } else {
    letters.forEach((letter, index) => {
      if (index > 0) output.line();
      showLetter(context, letter);
    });
  }
  if (letters.length === 0) output.note('no dead letters matched');
  else if (command.opts<SelectionOptions>().limit === undefined && letters.length === limit)
    output.note(`showing the first ${limit}: --limit N for more`);
  return EXIT.ok;
}

function showLetter(context: CommandContext, letter: DeadLetter): void {
  const { output } = context;
  output.line(output.color.bold(letter.id));
  output.fields([
    ['  reason', letter.reason],
    ['  failed at', letter.deadLetteredAt.toISOString()],
    ['  published at', letter.publishedAt.toISOString()],
    ['  attempts', String(letter.attempts)],
    ['  redrives', String(letter.redrives)],
    ['  ordering key', letter.orderingKey ?? '(none)'],
    ['  attributes', attributesText(letter.attributes) || '(none)'],
    ['  body', bodyText(letter.body)],
  ]);
}

function letterRecord(letter: DeadLetter): Record<string, unknown> {
  return {
    id: letter.id,
    reason: letter.reason,
    attempts: letter.attempts,
    redrives: letter.redrives,
    deadLetteredAt: letter.deadLetteredAt.toISOString(),
    publishedAt: letter.publishedAt.toISOString(),
    orderingKey: letter.orderingKey ?? null,
    attributes: letter.attributes,
    ...bodyRecord(letter.body),
  };
}

async function countLetters(context: CommandContext, command: Command): Promise<number> {
  const [topic, subscription] = command.processedArgs as [string, string];
  const bus = await context.bus();
  const count = await bus.deadLetters(topic, subscription).count();
  const approximate = bus.capabilities.deadLetterAdmin.count === 'approximate';
  const { output } = context;
  if (output.json) output.record({ topic, subscription, count, approximate });
  else output.line(approximate ? `~${count}` : String(count));
  return EXIT.ok;
}

async function actOnLetters(
  context: CommandContext,
  command: Command,
  action: Action,
): Promise<number> {
  const [topic, subscription] = command.processedArgs as [string, string];
  const options = command.opts<ActionOptions>();
  const filter = await readFilter(context, options, undefined);
  const ratePerSecond = options.rate === undefined ? undefined : parseRate('--rate', options.rate);
  const maxRedrives =
    options.maxRedrives === undefined
      ? undefined
      : parseWholeNumber('--max-redrives', options.maxRedrives);
  const dryRun = options.dryRun === true;
  if (!dryRun && options.yes !== true && !context.canPrompt())
    throw new UsageError(
      `refusing to ${action} without --yes: there is no terminal to confirm on. ` +
        `Run it with --dry-run to see what it would do, then with --yes to do it.`,
    );
  const bus = await context.bus();
  const dlq = bus.deadLetters(topic, subscription);
  warnIfCountBumping(context, bus);
  const run = (
    selected: DeadLetterFilter,
    extra: { dryRun: boolean; onResult?: (result: DeadLetterResult) => void },
  ) => {
    const selection = dlq.select(selected);
    const common = {
      dryRun: extra.dryRun,
      signal: context.signal,
      ...(ratePerSecond === undefined || extra.dryRun ? {} : { ratePerSecond }),
      ...(extra.onResult === undefined ? {} : { onResult: extra.onResult }),
    };
    return action === 'redrive'
      ? selection.redrive(maxRedrives === undefined ? common : { ...common, maxRedrives })
      : selection.purge(common);
  };

  let selected = filter;
  let notFoundBefore: readonly DeadLetterNotFound[] = [];
  if (!dryRun && options.yes !== true) {
    // On a terminal: find what it would do (a dry run changes nothing), ask, then act on exactly
    // those letters: one dead-lettered while the question was open was not in the count.
    const preview = await run(filter, { dryRun: true });
    const acting = preview.matched - preview.refused;
    if (acting === 0) {
      printNotFound(context, preview.notFound);
      context.output.note(
        `no dead letters of ${topic}/${subscription} to ${action}${refusedNote(preview)}`,
      );
      return preview.refused > 0 || preview.notFound.length > 0 ? EXIT.failed : EXIT.ok;
    }
    await confirmAction(
      context,
      `${action === 'redrive' ? 'Redrive' : 'Purge (delete for good)'} ${acting} dead letter(s) of ${topic}/${subscription}${refusedNote(preview)}?`,
    );
    selected = { ...filter, ids: preview.results.map((result) => result.id) };
    // Not found in the preview, so not asked for again: the final report can't list them.
    notFoundBefore = preview.notFound;
  }

  const { output } = context;
  const progress =
    context.io.stderr.isTTY === true && context.io.stdout.isTTY !== true && !dryRun
      ? startProgress(context, action, await dlq.count(), filter.limit)
      : undefined;
  const report = await (async () => {
    try {
      return await run(selected, {
        dryRun,
        onResult: (result) => {
          progress?.increment();
          printResult(context, result);
        },
      });
    } finally {
      progress?.stop();
    }
  })();
  const notFound = [...notFoundBefore, ...report.notFound];
  printNotFound(context, notFound);
  if (context.signal.aborted) {
    printSummary(context, action, report, notFound.length);
    output.note(`interrupted: the letters not reached are still in the DLQ`);
    return EXIT.interrupted;
  }
  printSummary(context, action, report, notFound.length);
  return report.failed > 0 || report.refused > 0 || notFound.length > 0 ? EXIT.failed : EXIT.ok;
}

/** A `not-found` line (or --json record) for each id asked for with --id that core did not find in the DLQ. */
function printNotFound(context: CommandContext, notFound: readonly DeadLetterNotFound[]): void {
  const { output } = context;
  for (const { id, outcome } of notFound) {
    if (output.json) output.record({ id, outcome });
    else output.line(`${output.color.red(outcome.padEnd(13))} ${id}  not in the DLQ`);
  }
}

function refusedNote(report: DeadLetterReport): string {
  return report.refused > 0 ? ` (${report.refused} more refused: redriven too often)` : '';
}

function printResult(context: CommandContext, result: DeadLetterResult): void {
  const { output } = context;
  if (output.json) {
    output.record({
      id: result.id,
      outcome: result.outcome,
      reason: result.reason,
      attempts: result.attempts,
      redrives: result.redrives,
      deadLetteredAt: result.deadLetteredAt.toISOString(),
      orderingKey: result.orderingKey ?? null,
      ...(result.detail === undefined ? {} : { detail: result.detail }),
      ...(result.error === undefined ? {} : { code: result.error.code }),
    });
    return;
  }
  const outcome = result.outcome.padEnd(13);
  const colored =
    result.outcome === 'failed'
      ? output.color.red(outcome)
      : result.outcome === 'refused'
        ? output.color.yellow(outcome)
        : result.outcome.startsWith('would')
          ? output.color.cyan(outcome)
          : output.color.green(outcome);
  const why = result.detail === undefined ? '' : `  (${result.detail})`;
  output.line(
    `${colored} ${result.id}  attempts ${result.attempts}  redrives ${result.redrives}  ${oneLine(result.reason, 60)}${why}`,
  );
}

function printSummary(
  context: CommandContext,
  action: Action,
  report: DeadLetterReport,
  notFound: number,
): void {
  const { output } = context;
  const summary = {
    action,
    dryRun: report.dryRun,
    scanned: report.scanned,
    matched: report.matched,
    redriven: report.redriven,
    purged: report.purged,
    refused: report.refused,
    failed: report.failed,
    notFound,
  };
  if (output.json) {
    output.record({ summary });
    return;
  }
  const done = action === 'redrive' ? report.redriven : report.purged;
  const verb = report.dryRun ? `would ${action}` : action === 'redrive' ? 'redriven' : 'purged';
  const acting = report.dryRun ? report.matched - report.refused - report.failed : done;
  const parts = [
    `${verb} ${acting}`,
    `refused ${report.refused}`,
    `failed ${report.failed}`,
    `matched ${report.matched} of ${report.scanned} scanned`,
    ...(notFound > 0 ? [`not found ${notFound}`] : []),
  ];
  output.note(`${report.dryRun ? 'dry run: ' : ''}${parts.join(', ')}`);
  if (report.refused > 0)
    output.note(
      'refused letters were redriven too often already (the loop guard): fix the cause, then raise --max-redrives or purge them',
    );
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
