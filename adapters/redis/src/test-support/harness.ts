import { randomBytes } from 'node:crypto';
import type { ConformanceHarness } from '@omnibus/conformance';
import { connect } from '@omnibus/core';
import type { Cluster, Redis } from 'ioredis';
import { type RedisOptions, redis } from '../index.js';
import { deleteKeys, killConnections } from './redis-server.js';

export interface RedisHarnessOptions {
  name: string;
  /** A new client (standalone or cluster) whose connections carry `connectionName`. */
  createClient(connectionName: string): Redis | Cluster;
  /** An admin client for the restart simulation. */
  admin: Redis | Cluster;
  driverOptions?: Omit<RedisOptions, 'client'>;
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
    async restartBroker() {
      await killConnections(options.admin, connectionName);
      for (const prefix of prefixes) await deleteKeys(options.admin, `omnibus:{${prefix}*`);
    },
    /** Disconnects what is left and deletes every key the harness's buses wrote. */
    async closeAll() {
      for (const client of clients) client.disconnect();
      clients.clear();
      for (const prefix of prefixes) await deleteKeys(options.admin, `omnibus:{${prefix}*`);
      prefixes.clear();
    },
  };
}
