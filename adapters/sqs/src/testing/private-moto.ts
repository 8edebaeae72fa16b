// A moto_server of one test file's own, on a free port: for tests that load moto in ways the shared one must not see.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, waitUntil } from '@omnibus/test-brokers';

/**
 * Put on PYTHONPATH, makes moto_server's SQS queues thread-safe (see its `sitecustomize.py`);
 * `.ci/brokers.sh` starts the shared moto with it too.
 */
export const THREAD_SAFE_MOTO = fileURLToPath(new URL('./moto-thread-safe', import.meta.url));

/** A moto_server nobody else knows the port of. */
export interface PrivateMoto {
  /** `http://127.0.0.1:PORT` (SQS and SNS). */
  readonly endpoint: string;
  /** Kills this server (by its own pid). Calling it again does nothing. */
  stop(): Promise<void>;
}

function findMotoServer(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'moto_server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Why no private moto can start here, or `undefined`; throws instead under OMNIBUS_REQUIRE_BROKERS=1. */
export function privateMotoUnavailable(): string | undefined {
  if (findMotoServer() !== undefined) return undefined;
  const reason = 'moto_server is not installed (pip install "moto[server]")';
  if (process.env.OMNIBUS_REQUIRE_BROKERS === '1')
    throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
  return reason;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/**
 * Starts moto_server on a free loopback port, as a child of this process, with thread-safe SQS
 * queues unless `threadSafe: false` (only to show what the patch prevents).
 */
export async function startPrivateMoto(
  options: { threadSafe?: boolean } = {},
): Promise<PrivateMoto> {
  const executable = findMotoServer();
  if (executable === undefined) throw new Error(privateMotoUnavailable());
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const endpoint = `http://127.0.0.1:${port}`;
  const pythonPath = [THREAD_SAFE_MOTO, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: options.threadSafe === false ? process.env : { ...process.env, PYTHONPATH: pythonPath },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', kill);
    kill();
    await exited(child);
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode})`);
        return (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) })).ok;
      },
      `the private moto_server on port ${port}`,
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}
