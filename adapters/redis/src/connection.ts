// The client a driver talks through: options that bound every command, one call's bound, closed and fatal errors.
import {
  ClosedError,
  ConfigError,
  DEFAULT_OPERATION_TIMEOUT_MS,
  OmnibusError,
  withTimeLimit,
} from '@omnibus/core';
import { Cluster, type RedisOptions as IORedisOptions, Redis } from 'ioredis';
import { scrubCredentials } from './classify-error.js';
import { type Endpoint, watchConnectionFault } from './connection-fault.js';

/** A standalone or cluster client. */
export type RedisClient = Redis | Cluster;

/** What {@link openConnection} needs: the connection part of `RedisOptions`. */
export interface ConnectionOptions {
  readonly client?: RedisClient | undefined;
  readonly url?: string | undefined;
  readonly redisOptions?: IORedisOptions | undefined;
  readonly operationTimeoutMs?: number | undefined;
}

/** One driver's connection: its client, the bound of one call, and its closed state. */
export interface RedisConnection {
  readonly client: RedisClient;
  readonly operationTimeoutMs: number;
  readonly closed: boolean;
  /**
   * Runs one driver call: bounded as a whole unless `bounded` is false (a call of many round trips
   * bounds each of its own with {@link RedisConnection.bound}), closed and fatal errors made explicit.
   */
  guard<R>(operation: () => Promise<R>, bounded?: boolean): Promise<R>;
  /** One round trip's bound (a third of operationTimeoutMs). */
  bound<R>(running: Promise<R>): Promise<R>;
  /** Throws `ClosedError` once {@link RedisConnection.close} began. */
  checkOpen(): void;
  /** Marks the connection closed, runs `drain` (sessions closing), then quits a client it created. */
  close(drain: () => Promise<void>): Promise<void>;
}

export function openConnection(options: ConnectionOptions): RedisConnection {
  const operationTimeoutMs = operationTimeout(options.operationTimeoutMs);
  const ownsClient = options.client === undefined;
  const client =
    options.client ?? createClient(options.url, options.redisOptions, operationTimeoutMs);
  const perCallMs = perCommandMs(operationTimeoutMs);
  const fault = watchConnectionFault(client, endpointOf(client), Math.min(1_000, perCallMs));
  const checkDatabase = databaseCheck(client, perCallMs);
  let closed = false;
  let closing: Promise<void> | undefined;
  const checkOpen = () => {
    if (closed) throw new ClosedError('the Redis driver is closed', { driver: 'redis' });
  };
  return {
    client,
    operationTimeoutMs,
    get closed() {
      return closed;
    },
    checkOpen,
    bound: (running) => withinBound(running, perCallMs),
    async guard(operation, bounded = true) {
      if (closed) {
        // A call racing close() fails once the close is done, not halfway through it.
        await closing;
        checkOpen();
      }
      const unreachable = fault.unreachable();
      if (unreachable !== undefined) throw unreachable;
      try {
        await checkDatabase();
        return await (bounded ? withinBound(operation(), perCallMs) : operation());
      } catch (error) {
        scrubCredentials(error);
        // Failed because the driver (and its connections) closed under it: that is what to report.
        if (closed)
          throw new ClosedError('the Redis driver was closed during the call', {
            driver: 'redis',
            cause: error,
          });
        throw await fault.explain(error);
      }
    },
    close(drain) {
      closing ??= (async () => {
        closed = true;
        await drain();
        if (ownsClient) await client.quit().catch(() => client.disconnect());
      })();
      return closing;
    },
  };
}

/**
 * ioredis SELECTs the client's database on each connection but, when Redis refuses it (`/16` on a
 * server with 16 databases), only emits an `error` and goes on in database 0, where Omnibus would
 * then read and write. So before a driver's first call, the database is SELECTed once more and
 * awaited: a refusal (`ERR DB index is out of range`, a non-retryable `Config`) fails that call and
 * every later one, and no command reaches database 0. A failure for want of an answer is retried
 * by the next call. A Cluster has only database 0.
 */
function databaseCheck(client: RedisClient, perCallMs: number): () => Promise<void> {
  const db = isCluster(client) ? 0 : Number(client.options.db ?? 0);
  if (db === 0) return async () => undefined;
  let checked: Promise<void> | undefined;
  return () => {
    checked ??= withinBound(client.select(db), perCallMs).then(
      () => undefined,
      (error: unknown) => {
        if (!isDatabaseRefused(error)) checked = undefined;
        throw error;
      },
    );
    return checked;
  };
}

/** Redis's answer to SELECT of a database it doesn't have. */
function isDatabaseRefused(error: unknown): boolean {
  return (
    error instanceof Error && /^ERR (DB index is out of range|invalid DB index)/.test(error.message)
  );
}

function operationTimeout(value: number | undefined): number {
  if (value === undefined) return DEFAULT_OPERATION_TIMEOUT_MS;
  if (!Number.isInteger(value) || value < 100 || value > 3_600_000)
    throw new ConfigError(
      `redis option operationTimeoutMs must be a whole number of ms from 100 to 3600000, got ${String(value)}`,
    );
  return value;
}

/**
 * Settings for clients Omnibus creates. `autoResendUnfulfilledCommands: false`: a command written
 * before the connection dropped may have run; resending it after reconnecting could XADD a
 * message twice, so it fails (retryable `Unavailable`) and core decides instead.
 */
const CLIENT_DEFAULTS: IORedisOptions = { autoResendUnfulfilledCommands: false };

/**
 * Bounds of each command, from `operationTimeoutMs`: a third of it per command (so core can try
 * about three times within the bound), at most one reconnection attempt waited for in the offline
 * queue. ioredis's defaults (20 reconnections per command, no command timeout) made the first send
 * to a Redis that was down reject only after 74 s.
 */
export function boundedOptions(operationTimeoutMs: number): IORedisOptions {
  const perCommand = perCommandMs(operationTimeoutMs);
  return {
    ...CLIENT_DEFAULTS,
    commandTimeout: perCommand,
    connectTimeout: Math.min(10_000, perCommand),
    maxRetriesPerRequest: 1,
  };
}

function perCommandMs(operationTimeoutMs: number): number {
  return Math.max(50, Math.floor(operationTimeoutMs / 3));
}

/**
 * One driver call's own bound, for what client options can't bound: a Cluster client waits for
 * its slot map without limit, and a client of the user's own has whatever settings it has. The
 * call itself is left to finish in the background (ioredis offers no way to withdraw a command).
 */
function withinBound<R>(running: Promise<R>, ms: number): Promise<R> {
  return withTimeLimit(
    running,
    ms,
    () =>
      new OmnibusError('Timeout', `Redis did not answer within ${ms} ms`, {
        driver: 'redis',
        retryable: true,
      }),
  );
}

function createClient(
  url: string | undefined,
  extra: IORedisOptions | undefined,
  operationTimeoutMs: number,
): Redis {
  const options = { ...boundedOptions(operationTimeoutMs), ...extra };
  const client = url === undefined ? new Redis(options) : new Redis(url, options);
  // Errors reach callers through rejected commands; without a listener ioredis would log each one.
  client.on('error', () => undefined);
  return client;
}

/** Where a client connects (its first seed node for a cluster), for messages and the protocol probe. */
function endpointOf(client: RedisClient): Endpoint {
  if (isCluster(client)) {
    const seed = (client as unknown as { startupNodes?: { host?: string; port?: number }[] })
      .startupNodes?.[0];
    const tls = Boolean((client.options.redisOptions as { tls?: unknown } | undefined)?.tls);
    return { host: seed?.host ?? '127.0.0.1', port: seed?.port ?? 6379, tls, probe: true };
  }
  const { host, port, tls } = client.options;
  return { host: host ?? '127.0.0.1', port: port ?? 6379, tls: Boolean(tls), probe: false };
}

/**
 * The connection a session blocks on, and a connection to the same server to send `CLIENT UNBLOCK`
 * on. On a Cluster both are plain connections to the master that owns the topic's hash slot.
 */
export interface BlockingConnection {
  readonly connection: Redis;
  control(): Redis | undefined;
}

/**
 * A connection of its own for blocking reads, so they never hold up the shared one, plus where to
 * send `CLIENT UNBLOCK` for it. On a Cluster: a plain connection to the master owning the topic's
 * slot (all of a subscription's streams share it), so that UNBLOCK can reach the same server.
 */
export async function openBlockingConnection(
  client: RedisClient,
  key: string,
): Promise<BlockingConnection> {
  if (!isCluster(client)) {
    const connection = client.duplicate({
      commandTimeout: undefined,
      autoResendUnfulfilledCommands: true,
    });
    connection.on('error', () => undefined);
    return { connection, control: () => client };
  }
  const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
  const owner = client.slots[slot]?.[0];
  const nodeOf = () =>
    client
      .nodes('master')
      .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner);
  const node = nodeOf();
  if (node === undefined) {
    throw new OmnibusError('Unavailable', `no Redis cluster master is known for slot ${slot} yet`, {
      retryable: true,
      driver: 'redis',
    });
  }
  // The cluster's own node connections leave reconnecting to the cluster (retryStrategy null);
  // this one is on its own, so it reconnects like a standalone client.
  const connection = node.duplicate({
    commandTimeout: undefined,
    autoResendUnfulfilledCommands: true,
    lazyConnect: false,
    retryStrategy: (times: number) => Math.min(times * 50, 2_000),
  });
  connection.on('error', () => undefined);
  // The cluster may replace its node connections (reconnects, slot refreshes): look it up each time.
  return { connection, control: nodeOf };
}

function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster || (client as { isCluster?: boolean }).isCluster === true;
}
