// The conformance harness on Redis: buses and drivers on one client each, a restart simulated for its own keys, bounded-failure hooks.
import { randomBytes } from 'node:crypto';
import type { ConformanceHarness } from '@omnibus/conformance';
import { type Bus, connect } from '@omnibus/core';
import { freePorts } from '@omnibus/test-brokers';
import type { Cluster, Redis } from 'ioredis';
import { fromUrl, type RedisOptions, redis } from '../index.js';
import { type AmqpLookalike, startAmqpLookalike } from './amqp-lookalike.js';
import { deleteKeys, killConnections } from './redis-server.js';

export interface RedisHarnessOptions {
  name: string;
  /** A new client (standalone or cluster) whose connections carry `connectionName`. */
  createClient(connectionName: string): Redis | Cluster;
  /** An admin client for the restart simulation. */
  admin: Redis | Cluster;
  driverOptions?: Omit<RedisOptions, 'client'>;
  /** The bounded-failure hooks connect as a Redis Cluster client (`?cluster=true`). */
  cluster?: boolean;
}

/**
 * A conformance harness on a shared Redis. `restartBroker` does to this harness's buses what a
 * restart of the pre-started, non-persistent server does, without touching anyone else using the
 * server: it kills their connections (ioredis reconnects) and deletes every key of the prefixes
 * they used, so consumers meet NOGROUP and must recreate their groups.
 */
export function redisHarness(
  options: RedisHarnessOptions,
): ConformanceHarness & { closeAll(): Promise<void> } {
  const connectionName = `omnibus-test-${randomBytes(4).toString('hex')}`;
  const prefixes = new Set<string>();
  const clients = new Set<Redis | Cluster>();
  const buses = new Set<Bus>();
  let lookalike: AmqpLookalike | undefined;
  /** A bus on a client Omnibus creates from `url` (these hooks test its bounds), closed by closeAll. */
  async function connectUrl(url: string, prefix: string, operationTimeoutMs: number): Promise<Bus> {
    const query = `?operationTimeoutMs=${operationTimeoutMs}${options.cluster ? '&cluster=true' : ''}`;
    const bus = await connect(fromUrl(new URL(url + query)), { prefix });
    buses.add(bus);
    return bus;
  }
  return {
    name: options.name,
    async connect({ prefix }) {
      prefixes.add(prefix);
      const client = options.createClient(connectionName);
      client.on('error', () => undefined);
      clients.add(client);
      const driver = redis({ ...options.driverOptions, client });
      const close = driver.close.bind(driver);
      return connect(
        {
          ...driver,
          async close() {
            await close();
            clients.delete(client);
            // Not awaited: the bus is closed once the driver is; the socket goes away in the background.
            client.quit().catch(() => client.disconnect());
          },
        },
        { prefix },
      );
    },
    async driver({ prefix }) {
      prefixes.add(prefix);
      const client = options.createClient(connectionName);
      client.on('error', () => undefined);
      clients.add(client);
      const driver = redis({ ...options.driverOptions, client });
      const close = driver.close.bind(driver);
      return {
        ...driver,
        async close() {
          await close();
          clients.delete(client);
          client.quit().catch(() => client.disconnect());
        },
      };
    },
    async restartBroker() {
      await killConnections(options.admin, connectionName);
      for (const prefix of prefixes) await deleteKeys(options.admin, `omnibus:{${prefix}*`);
    },
    async connectUnreachable({ prefix, operationTimeoutMs }) {
      const [port] = await freePorts(1);
      return connectUrl(`redis://127.0.0.1:${port}`, prefix, operationTimeoutMs);
    },
    async connectWrongProtocol({ prefix, operationTimeoutMs }) {
      lookalike ??= await startAmqpLookalike();
      return connectUrl(`redis://127.0.0.1:${lookalike.port}`, prefix, operationTimeoutMs);
    },
    /** Disconnects what is left and deletes every key the harness's buses wrote. */
    async closeAll() {
      await Promise.allSettled([...buses].map((bus) => bus.close()));
      buses.clear();
      await lookalike?.close();
      lookalike = undefined;
      for (const client of clients) client.disconnect();
      clients.clear();
      for (const prefix of prefixes) await deleteKeys(options.admin, `omnibus:{${prefix}*`);
      prefixes.clear();
    },
  };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
