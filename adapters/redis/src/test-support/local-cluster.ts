// Starts and stops a throwaway 3-master Redis Cluster on loopback ports, for tests.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listening } from '@omnibus/test-brokers';

const run = promisify(execFile);

/** A throwaway 3-master Redis Cluster on loopback ports, for tests. */
export interface LocalCluster {
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

async function freeBlock(first: number): Promise<number[]> {
  for (let base = first; base < first + 500; base += 10) {
    const ports = [base, base + 1, base + 2];
    const busy = await Promise.all(ports.map(listening));
    if (!busy.some(Boolean)) return ports;
  }
  throw new Error(`no three free ports from ${first}`);
}

/**
 * Starts three `redis-server --cluster-enabled yes` processes in a temp dir (no persistence), joins
 * them with `redis-cli --cluster create`, and waits for `cluster_state:ok`. `stop()` kills exactly
 * those child processes and removes the dir.
 */
export async function startLocalCluster(firstPort = 7101): Promise<LocalCluster> {
  const ports = await freeBlock(firstPort);
  const dir = await mkdtemp(join(tmpdir(), 'omnibus-redis-cluster-'));
  // Children of this process (not daemonized), so that killing them also reaps them.
  const servers: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server.exitCode !== null || server.signalCode !== null) return resolve();
            server.once('exit', () => resolve());
            server.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const server = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '5000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--logfile',
          join(dir, `redis-${port}.log`),
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('spawn', () => resolve());
        server.once('error', reject);
      });
    }
    for (const port of ports)
      await waitUntil(() => listening(port), `redis-server on ${port} to listen`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await waitUntil(async () => {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      }, `cluster_state:ok on ${port}`);
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
