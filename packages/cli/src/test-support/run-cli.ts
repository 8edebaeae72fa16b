// Runs the built `omnibus` binary as a user does: a child process, with stdin, stdout, stderr and an exit code.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { listening, waitUntil } from '@omnibus/test-brokers';

/** The built binary (the test script builds it first: turbo's test task depends on build). */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The shared brokers the CLI is tested against, by adapter name. */
export const BROKERS = [
  { name: 'redis', url: REDIS_URL },
  { name: 'rabbitmq', url: AMQP_URL },
] as const;

/** What a finished run printed and how it exited. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is never a terminal here). */
  readonly input?: string | Uint8Array;
  /** Extra environment; OMNIBUS_URL and colour variables of the test's own environment are removed. */
  readonly env?: Record<string, string>;
}

/** A run still going (tail): its process, what it printed so far, and how it ends. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly done: Promise<CliResult>;
}

/** Starts the binary with `args`. */
export function startCli(args: readonly string[], options: RunOptions = {}): RunningCli {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of ['OMNIBUS_URL', 'FORCE_COLOR', 'NO_COLOR']) {
    if (options.env?.[name] === undefined) delete environment[name];
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    env: environment,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin?.on('error', () => {}); // a run that exits before reading its stdin
  child.stdin?.end(options.input ?? '');
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs the binary with `args` to its end. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Resolves once the running CLI printed text matching `pattern` on stderr. */
export async function waitForStderr(run: RunningCli, pattern: RegExp, what: string): Promise<void> {
  await waitUntil(
    () => pattern.test(run.stderr()) || run.child.exitCode !== null,
    what,
    20_000,
    20,
  );
  if (!pattern.test(run.stderr()))
    throw new Error(`the CLI exited before ${what}; stderr: ${run.stderr()}`);
}

/** The NDJSON records of a run's stdout. */
export function records(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A prefix unique to this run, so that the shared brokers' other users are not touched. */
export function uniquePrefix(tag: string): string {
  return `cli${tag}${randomBytes(3).toString('hex')}-`;
}

/**
 * Whether the broker behind `url` is unreachable: the reason to skip with, or, under
 * OMNIBUS_REQUIRE_BROKERS=1 (CI), a thrown error so a run can't pass by skipping.
 */
export async function brokerUnavailable(url: string): Promise<string | undefined> {
  const port = Number(new URL(url).port);
  if (await listening(port)) return undefined;
  const reason = `nothing listens on 127.0.0.1:${port} (start the shared brokers: bash .ci/brokers.sh start)`;
  if (process.env.OMNIBUS_REQUIRE_BROKERS === '1')
    throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
  return reason;
}
