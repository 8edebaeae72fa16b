/** A private redis-server per test file, for fault tests that kill or restart the server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Same shape as `@omnibus/test-brokers`' `PrivateRedis`, so the two can be swapped. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGKILLs the server and starts it again on the same port; without persistence it comes back empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A port the kernel just handed out, so nothing else listens there. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts `redis-server` on a free loopback port in a temp dir, without persistence unless asked.
 * It is this process's child: `stop()` and `restart()` signal exactly that pid.
 */
export async function startPrivateRedis(
  options: { persistent?: boolean } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'omnibus-private-redis-'));
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  let server: ChildProcess;

  async function start(): Promise<void> {
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence],
      { stdio: 'ignore' },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('spawn', () => resolve());
      server.once('error', reject);
    });
    const probe = new Redis(port, '127.0.0.1', {
      retryStrategy: (times) => Math.min(times * 20, 200),
    });
    probe.on('error', () => undefined);
    try {
      await probe.ping();
    } finally {
      probe.disconnect();
    }
  }

  function kill(): Promise<void> {
    return new Promise((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGKILL');
    });
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return server.pid ?? -1;
    },
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
