// Starts a redis-server of its own on a free port, for tests that kill or restart it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetDirectory, forgetPid, killOnExit, removeOnExit } from './exit-cleanup.js';
import { freePorts } from './free-ports.js';
import { requireExecutable } from './private-broker-unavailable.js';
import { waitUntil } from './wait-until.js';

/** A redis-server that belongs to one test run: nobody else knows its port. */
export interface PrivateRedis {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The server process's pid; a new one after each {@link PrivateRedis.restart}. */
  readonly pid: number;
  /**
   * Kills the server with SIGKILL (a crash: nothing is saved on the way down) and starts it again
   * on the same port and directory. A persistent server comes back with every write it
   * acknowledged; a non-persistent one comes back empty.
   */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. Calling it again does nothing. */
  stop(): Promise<void>;
}

/** Options for {@link startPrivateRedis}. */
export interface PrivateRedisOptions {
  /**
   * Append-only file with `appendfsync always`: every acknowledged write survives a restart.
   * @default false (no RDB, no AOF: a restart loses everything, like the shared server)
   */
  persistent?: boolean;
}

const START_TIMEOUT_MS = 20_000;

/** Whether the server on `port` answers PING with PONG (not LOADING, not refused). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/**
 * Starts `redis-server` on a free loopback port with its own temp directory, as a child of this
 * process (not daemonized, so its pid is known and its exit observed). Throws, with the reason,
 * when redis-server is not installed; see `privateBrokerUnavailable('redis')` to skip instead.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const executable = requireExecutable('redis');
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const directory = await mkdtemp(join(tmpdir(), 'omnibus-redis-'));
  removeOnExit(directory);
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    directory,
    '--save',
    '',
    ...persistence,
    '--logfile',
    join(directory, 'redis.log'),
  ];

  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async () => {
    const server = spawn(executable, args, { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      server.once('spawn', () => resolve());
      server.once('error', reject);
    });
    child = server;
    if (server.pid !== undefined) killOnExit(server.pid);
    await waitUntil(
      async () => {
        if (server.exitCode !== null || server.signalCode !== null) {
          throw new Error(`redis-server exited early; see ${join(directory, 'redis.log')}`);
        }
        return answersPing(port);
      },
      `the private redis-server on port ${port} to answer PING`,
      START_TIMEOUT_MS,
    );
  };

  const kill = async () => {
    const server = child;
    if (server === undefined) return;
    child = undefined;
    server.kill('SIGKILL');
    await exited(server);
    if (server.pid !== undefined) forgetPid(server.pid);
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill();
    await rm(directory, { recursive: true, force: true });
    forgetDirectory(directory);
  };

  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    async restart() {
      if (stopped) throw new Error('this private Redis was stopped');
      await kill();
      await launch();
    },
    stop,
  };
}
