/** The `omnibus` program: global options, every command, and one run of it from an argv to an exit code. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { CommandIO } from './command-context.js';
import { CommandRunner, type RunState } from './command-runner.js';
import { addDeclareCommand } from './declare-command.js';
import { addDeleteCommand } from './delete-command.js';
import { addDlqCommand } from './dlq-command.js';
import { addDoctorCommand } from './doctor-command.js';
import { EXIT, exitCodeOf, messageOf } from './failure.js';
import { Output } from './output.js';
import { addPublishCommand } from './publish-command.js';
import { addStatsCommand } from './stats-command.js';
import { addTailCommand } from './tail-command.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** Builds the program; its actions run through `runner`. */
export function createProgram(io: CommandIO, runner: CommandRunner): Command {
  const errors = new Output({
    json: false,
    stdout: io.stdout,
    stderr: io.stderr,
    environment: io.environment,
  });
  const program = new Command('omnibus')
    .description(
      'Operate the brokers Omnibus serves (Redis, RabbitMQ, SQS+SNS, Google Pub/Sub, memory) with one ' +
        'set of commands: counts, publish, tail, dead letters (list, show, redrive, purge), declare, delete, doctor.',
    )
    .version(version)
    // Usage errors exit 2 (see run()); output goes through the same streams as everything else.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errors.errorColor.red(text)),
    })
    .showHelpAfterError('(add --help for usage and examples)')
    // Every command's --help lists --url, --prefix and --json too.
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option(
        '--url <url>',
        'broker URL, as connect() takes it (credentials are never printed)',
      ).env('OMNIBUS_URL'),
    )
    .option(
      '--prefix <prefix>',
      'namespace of every topic and subscription name (as connect({ prefix }))',
    )
    .option('--json', 'machine output: NDJSON / JSON on stdout')
    .addHelpText(
      'after',
      `
Exit codes: 0 done · 1 failed (any one message failing counts) · 2 bad input (nothing was done) · 130 interrupted.
Colour only on a terminal; NO_COLOR turns it off.

Examples:
  $ export OMNIBUS_URL=amqp://user:pass@rabbit:5672
  $ omnibus doctor
  $ omnibus stats orders kitchen
  $ omnibus dlq list orders kitchen --reason timeout
  $ omnibus dlq redrive orders kitchen --reason timeout --dry-run`,
    );
  addStatsCommand(program, runner);
  addPublishCommand(program, runner);
  addTailCommand(program, runner);
  addDlqCommand(program, runner);
  addDeclareCommand(program, runner);
  addDeleteCommand(program, runner);
  addDoctorCommand(program, runner);
  return program;
}

/** Runs the program once over `argv` (without node and script); resolves with the exit code. */
export async function run(
  argv: readonly string[],
  io: CommandIO,
  signal: AbortSignal,
  state: RunState = { exitCode: EXIT.ok, handlesInterrupt: false },
): Promise<number> {
  const program = createProgram(io, new CommandRunner(io, signal, state));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // --help and --version exit 0; any other commander error is bad input (commander printed it).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // An option parser's UsageError (--attr without "=") surfaces here, before any action ran.
    new Output({
      json: false,
      stdout: io.stdout,
      stderr: io.stderr,
      environment: io.environment,
    }).error(messageOf(error));
    return exitCodeOf(error);
  }
  return state.exitCode;
}
