// The Redis Streams driver: options, client set-up and bounds, and the DriverV1 methods.
import { randomBytes } from 'node:crypto';
import {
  ClosedError,
  ConfigError,
  DEFAULT_OPERATION_TIMEOUT_MS,
  OmnibusError,
  readOperationTimeout,
} from '@omnibus/core';
import type {
  Capabilities,
  DriverStats,
  DriverSubscription,
  DriverV1,
  StoredDeadLetter,
  SubscribeOptions,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import { Cluster, type RedisOptions as IORedisOptions, Redis } from 'ioredis';
import { classifyRedisError, scrubCredentials } from './classify-error.js';
import { type Endpoint, watchConnectionFault } from './connection-fault.js';
import { watchConnection } from './connection-watch.js';
import { decodeEntry, encodeFields, toDeadLetter } from './fields.js';
import { subscriptionKeys, type TopicKeys, topicKeys } from './keys.js';
import {
  ENSURE_SUBSCRIPTION,
  ENSURE_TOPIC,
  PUBLISH,
  PURGE,
  REDRIVE,
  runScript,
  STATS,
  TRIM,
} from './scripts.js';
import { type BlockingConnection, RedisSubscription } from './subscription.js';
import { checkSubscriptionSettings, encodeSubscriptionSettings } from './subscription-settings.js';

/** Options of {@link redis}. */
export interface RedisOptions {
  /**
   * Your own ioredis client, standalone (`new Redis(…)`) or cluster (`new Cluster(…)`). Omnibus
   * uses it for every non-blocking command and `duplicate()`s it once per consuming session for
   * the blocking read; it never closes it. Leave the client's own `keyPrefix` unset: use
   * {@link RedisOptions.keyPrefix}, which keeps the cluster hash tags intact.
   */
  client?: Redis | Cluster;
  /**
   * Where to connect when no `client` is given: `redis://[user:pass@]host:port[/db]`, or
   * `rediss://…` for TLS.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /** Extra ioredis options for the client Omnibus creates from `url` (TLS certificates, timeouts…). */
  redisOptions?: IORedisOptions;
  /**
   * Prefix of every Redis key Omnibus writes (core's `prefix` is applied to names before this).
   * @default 'omnibus:'
   */
  keyPrefix?: string;
  /**
   * How often each consumer moves due delayed messages into the streams and reclaims messages
   * whose lease expired (one Lua script), in ms; also its longest single `XREADGROUP … BLOCK`.
   * Shorter means delays and expired leases are honoured more precisely, at the cost of more idle
   * round trips (an idle consumer makes two per interval).
   * @default 200
   */
  pollIntervalMs?: number;
  /**
   * How often each consumer trims entries every consumer group has acknowledged from the streams
   * it reads, in ms; 0 turns trimming off.
   * @default 5000
   */
  trimIntervalMs?: number;
  /**
   * Hard cap on each stream's length (`XADD … MAXLEN ~ n`), for when a subscription nobody consumes
   * must not hold memory forever. Entries beyond it are dropped even if unread: leave it unset
   * unless losing them is acceptable.
   * @default undefined (no cap: retention is bounded by acknowledgement only)
   */
  maxLength?: number;
  /**
   * Consumers (one per consuming session) that hold no message and were idle this long are
   * removed from their group by the trim pass, in ms. Also how long a topic's subscription
   * registry must exist before retention trusts it to list every subscription: a new topic, or
   * one whose data Redis lost (a restart without persistence), is not trimmed until then, so the
   * consumers of subscriptions Redis forgot can come back and recreate their groups (see README,
   * Limits). 0: consumers are never removed and registries never trusted, so topics are never
   * trimmed (retry streams still are).
   * @default 3600000
   */
  staleConsumerMs?: number;
  /**
   * The longest one user call may take when Redis can't be reached, core's retries included, in
   * ms: 100 to 3 600 000 (`ConfigError` otherwise). Also `?operationTimeoutMs=` in a URL. On the
   * client Omnibus creates from `url`, each command is bounded by a third of it (ioredis
   * `commandTimeout`, `connectTimeout`) and a command waits for at most one reconnection
   * (`maxRetriesPerRequest: 1`), so a call against a Redis that is down fails with a retryable
   * `Unavailable` or `Timeout` and core can try again within the bound. A `client` of your own keeps
   * its own settings: give it a `commandTimeout` below this.
   * @default 15000
   */
  operationTimeoutMs?: number;
}

/**
 * What this adapter can do. `ordering` is false: a consumer group hands entries to whichever
 * consumer asks next, with no per-key affinity, so keeping a key's messages in order across
 * competing consumers would need a distributed per-key lock with head-of-line blocking on retries,
 * which this adapter does not build (see README).
 */
export const REDIS_CAPABILITIES: Capabilities = {
  fanout: true,
  ordering: false,
  delayedDelivery: 30 * 24 * 60 * 60 * 1000,
  nativeDeadLetter: true,
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 1000,
  stats: { waiting: true, inFlight: true, deadLettered: true },
  ackDeadline: { minMs: 1_000, maxMs: 12 * 60 * 60 * 1000 },
  leaseExtension: 'native',
};

const REDRIVE_BATCH = 500;
const PUBLISH_CHUNK_BYTES = 1024 * 1024;

/** Builds a Redis Streams driver for `connect()`. */
export function redis(options: RedisOptions = {}): DriverV1 {
  const operationTimeoutMs = operationTimeout(options.operationTimeoutMs);
  const ownsClient = options.client === undefined;
  const client =
    options.client ?? createClient(options.url, options.redisOptions, operationTimeoutMs);
  const perCallMs = perCommandMs(operationTimeoutMs);
  const fault = watchConnectionFault(client, endpointOf(client), Math.min(1_000, perCallMs));
  const keyPrefix = options.keyPrefix ?? 'omnibus:';
  const pollIntervalMs = positive(options.pollIntervalMs, 200, 'pollIntervalMs');
  const trimIntervalMs = options.trimIntervalMs ?? 5_000;
  const maxLength = options.maxLength ?? 0;
  const staleConsumerMs = options.staleConsumerMs ?? 3_600_000;
  const watch = watchConnection(client);
  const sessions = new Set<RedisSubscription>();
  const lastTopicTrim = new Map<string, number>();
  /** Subscriptions this driver created: if the server loses one, this driver knows it existed. */
  const ensured = new Set<string>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function checkOpen(): void {
    if (closed) throw new ClosedError('the Redis driver is closed', { driver: 'redis' });
  }

  function keysOf(spec: SubscriptionSpec) {
    return subscriptionKeys(keyPrefix, spec.topic, spec.subscription);
  }

  /** Streams of topics without a consumer running still get trimmed, by their producers. */
  function maybeTrimTopic(keys: TopicKeys): void {
    const { stream } = keys;
    if (trimIntervalMs <= 0) return;
    const now = Date.now();
    const last = lastTopicTrim.get(stream);
    if (last !== undefined && now - last < trimIntervalMs) return;
    if (last === undefined && lastTopicTrim.size > 10_000) lastTopicTrim.clear();
    lastTopicTrim.set(stream, now);
    if (last === undefined) return;
    runScript(client, TRIM, [stream, keys.subscriptions], [staleConsumerMs, 'topic']).catch(
      () => undefined,
    );
  }

  /**
   * Runs one driver call: bounded as a whole by `perCallMs` unless `bounded` is false (a call of
   * many round trips bounds each of its own), closed and fatal errors made explicit.
   */
  async function guard<R>(operation: () => Promise<R>, bounded = true): Promise<R> {
    if (closed) {
      await closing;
      checkOpen();
    }
    try {
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
  }

  async function readStats(
    spec: SubscriptionSpec,
  ): Promise<{ lag: number; pending: number; deadLettered: number }> {
    const keys = keysOf(spec);
    const reply = (await runScript(
      client,
      STATS,
      [keys.stream, keys.retry, keys.delayed, keys.retryDelayed, keys.deadLetters],
      [spec.subscription],
    )) as number[];
    if (Number(reply[0]) !== 1) {
      throw new OmnibusError(
        'NotFound',
        `subscription "${spec.subscription}" on topic "${spec.topic}" does not exist (no consumer group on its stream)`,
        {
          driver: 'redis',
        },
      );
    }
    return { lag: Number(reply[1]), pending: Number(reply[2]), deadLettered: Number(reply[3]) };
  }

  const driver: DriverV1 = {
    specificationVersion: 'v1',
    name: 'redis',
    capabilities: REDIS_CAPABILITIES,
    native: client,
    operationTimeoutMs,
    classifyError: classifyRedisError,

    ensureTopic: (topic) =>
      guard(async () => {
        const keys = topicKeys(keyPrefix, topic);
        await runScript(client, ENSURE_TOPIC, [keys.stream, keys.subscriptions], []);
      }),

    ensureSubscription: (spec) =>
      guard(async () => {
        const keys = keysOf(spec);
        const stored = await runScript(
          client,
          ENSURE_SUBSCRIPTION,
          [keys.stream, keys.retry, keys.subscriptions],
          [spec.subscription, 'create', encodeSubscriptionSettings(spec)],
        );
        checkSubscriptionSettings(spec, String(stored));
        ensured.add(specKey(spec));
      }),

    publish: (topic, messages) =>
      guard(async () => {
        const keys = topicKeys(keyPrefix, topic);
        // One script call per chunk; chunks stay around a MiB so one call never holds Redis long.
        const calls: Promise<unknown>[] = [];
        let args: (string | number | Buffer)[] = [maxLength];
        let bytes = 0;
        for (const message of messages) {
          const fields = encodeFields(message);
          args.push(
            message.delayMs !== undefined && message.delayMs > 0 ? Math.ceil(message.delayMs) : 0,
            nonce(),
            fields.length,
          );
          for (const field of fields) args.push(field);
          bytes += message.body.byteLength + 128;
          if (bytes >= PUBLISH_CHUNK_BYTES) {
            calls.push(runScript(client, PUBLISH, [keys.stream, keys.delayed], args));
            args = [maxLength];
            bytes = 0;
          }
        }
        if (args.length > 1)
          calls.push(runScript(client, PUBLISH, [keys.stream, keys.delayed], args));
        await Promise.all(calls);
        maybeTrimTopic(keys);
      }),

    subscribe: (spec: SubscriptionSpec, _options: SubscribeOptions) =>
      guard(async (): Promise<DriverSubscription> => {
        try {
          await readStats(spec);
        } catch (error) {
          // The server lost a group this driver created (restart without persistence): it existed,
          // so it comes back at 0, as a consumer that meets NOGROUP recreates it.
          if (!(OmnibusError.isInstance(error) && error.code === 'NotFound')) throw error;
          if (!ensured.has(specKey(spec))) throw error;
          const keys = keysOf(spec);
          await runScript(
            client,
            ENSURE_SUBSCRIPTION,
            [keys.stream, keys.retry, keys.subscriptions],
            [spec.subscription, 'recover', encodeSubscriptionSettings(spec)],
          );
        }
        if (closed) {
          // A subscribe racing close() fails once the close is done, not halfway through it.
          await closing;
          checkOpen();
        }
        const session = new RedisSubscription({
          client,
          keys: keysOf(spec),
          spec,
          pollIntervalMs,
          trimIntervalMs,
          staleConsumerMs,
          maxLength,
          openBlockingConnection: () => openBlockingConnection(client, keysOf(spec).stream),
          onClose: (closedSession) => sessions.delete(closedSession),
        });
        sessions.add(session);
        return session;
      }),

    stats: (spec) =>
      guard(async (): Promise<DriverStats> => {
        const { lag, pending, deadLettered } = await readStats(spec);
        return {
          waiting: lag >= 0 ? lag : undefined,
          inFlight: pending,
          deadLettered: spec.deadLetter ? deadLettered : undefined,
        };
      }),

    peekDeadLetters: (spec, limit) =>
      guard(async (): Promise<StoredDeadLetter[]> => {
        await readStats(spec);
        if (limit <= 0) return [];
        const stream = keysOf(spec).deadLetters;
        const count = Number.isFinite(limit) ? Math.floor(limit) : 1_000_000;
        const entries = (await watch.run(
          client.xrangeBuffer(stream, '-', '+', 'COUNT', count),
        )) as [Buffer, Buffer[]][];
        return entries.map(([rawId, fields]) => {
          const id = rawId.toString();
          return toDeadLetter(decodeEntry(id, fields), { stream, id, fields });
        });
      }),

    countDeadLetters: (spec) =>
      guard(async () => {
        const { deadLettered } = await readStats(spec);
        return deadLettered;
      }),

    redriveDeadLetters: (spec, limit) =>
      guard(async () => {
        await withinBound(readStats(spec), perCallMs);
        const keys = keysOf(spec);
        // What was there when the call began: a message dead-lettered again while the redrive
        // runs gets a newer id and stays for the next redrive.
        const newest = (await withinBound(
          watch.run(client.xrevrange(keys.deadLetters, '+', '-', 'COUNT', 1)),
          perCallMs,
        )) as [string, string[]][];
        const lastId = newest[0]?.[0];
        if (lastId === undefined) return 0;
        let moved = 0;
        while (moved < limit) {
          const batch = Math.min(REDRIVE_BATCH, limit - moved);
          // A large DLQ takes many batches: each is bounded, the whole redrive is not.
          const count = Number(
            await withinBound(
              runScript(
                client,
                REDRIVE,
                [keys.deadLetters, keys.retry],
                [batch, maxLength, lastId],
              ),
              perCallMs,
            ),
          );
          moved += count;
          if (count < batch) break;
        }
        return moved;
      }, false),

    purgeDeadLetters: (spec) =>
      guard(async () => {
        await readStats(spec);
        return Number(await runScript(client, PURGE, [keysOf(spec).deadLetters], []));
      }),

    close() {
      closing ??= (async () => {
        closed = true;
        await Promise.allSettled([...sessions].map((session) => session.close()));
        if (ownsClient) await client.quit().catch(() => client.disconnect());
      })();
      return closing;
    },
  };
  return driver;
}

function specKey(spec: SubscriptionSpec): string {
  return `${spec.topic}\u0000${spec.subscription}`;
}

let nonceCounter = 0;
const noncePrefix = randomBytes(6).toString('base64url');

/** Keeps members of a scheduled set distinct even for identical messages. */
function nonce(): string {
  nonceCounter = (nonceCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${noncePrefix}${nonceCounter}`;
}

function operationTimeout(value: number | undefined): number {
  if (value === undefined) return DEFAULT_OPERATION_TIMEOUT_MS;
  if (!Number.isInteger(value) || value < 100 || value > 3_600_000)
    throw new ConfigError(
      `redis option operationTimeoutMs must be a whole number of ms from 100 to 3600000, got ${String(value)}`,
    );
  return value;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(
      `redis option ${name} must be a positive number of ms, got ${String(value)}`,
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
function boundedOptions(operationTimeoutMs: number): IORedisOptions {
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
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new OmnibusError('Timeout', `Redis did not answer within ${ms} ms`, {
          driver: 'redis',
          retryable: true,
        }),
      );
    }, ms);
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
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
function endpointOf(client: Redis | Cluster): Endpoint {
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
 * A connection of its own for blocking reads, so they never hold up the shared one, plus where to
 * send `CLIENT UNBLOCK` for it. On a Cluster: a plain connection to the master owning the topic's
 * slot (all of a subscription's streams share it), so that UNBLOCK can reach the same server.
 */
async function openBlockingConnection(
  client: Redis | Cluster,
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

function isCluster(client: Redis | Cluster): client is Cluster {
  return client instanceof Cluster || (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Builds the driver from a `redis://` or `rediss://` URL (what `connect(url)` calls). Besides what
 * ioredis reads from the URL, it takes `keyPrefix`, `pollIntervalMs`, `trimIntervalMs`, `maxLength`
 * and `operationTimeoutMs` query parameters, and `cluster=true` to treat the host as a Redis Cluster
 * seed node. Throws `ConfigError` for a URL without `//` and a host, a path other than a database
 * number, or a bad parameter value.
 */
export function fromUrl(url: URL): DriverV1 {
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(
      `@omnibus/redis serves redis:// and rediss:// URLs, not ${url.protocol}//`,
    );
  }
  // A malformed URL must not quietly become the default Redis: `redis:/:pw@host` parses as a path
  // with no host at all. Messages never quote the URL (it may hold a password).
  if (!url.href.startsWith(`${url.protocol}//`)) {
    throw new ConfigError(
      `a redis URL must start with ${url.protocol}// followed by the host, as in ${url.protocol}//user:password@host:6379/0`,
    );
  }
  if (url.hostname === '') {
    throw new ConfigError(
      `the redis URL has no host: write ${url.protocol}//host:port (127.0.0.1 for this machine)`,
    );
  }
  if (!/^(\/[0-9]*)?$/.test(url.pathname)) {
    throw new ConfigError(
      'the path of a redis URL is the database number (/0 to /15), and nothing else',
    );
  }
  const operationTimeoutMs = readOperationTimeout(url);
  const target = new URL(url.href);
  const take = (name: string): string | undefined => {
    const value = target.searchParams.get(name);
    target.searchParams.delete(name);
    return value ?? undefined;
  };
  const number = (name: string): number | undefined => {
    const value = take(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new ConfigError(`redis URL parameter ${name} must be a number, got "${value}"`);
    return parsed;
  };
  take('operationTimeoutMs');
  const keyPrefix = take('keyPrefix');
  const pollIntervalMs = number('pollIntervalMs');
  const trimIntervalMs = number('trimIntervalMs');
  const maxLength = number('maxLength');
  const cluster = take('cluster');
  const options: RedisOptions = {
    keyPrefix,
    pollIntervalMs,
    trimIntervalMs,
    maxLength,
    operationTimeoutMs,
  };
  if (cluster === 'true' || cluster === '1') {
    const redisOptions: IORedisOptions = {
      ...boundedOptions(operationTimeoutMs),
      username: decodeURIComponent(target.username) || undefined,
      password: decodeURIComponent(target.password) || undefined,
      tls: target.protocol === 'rediss:' ? {} : undefined,
    };
    const client = new Cluster([{ host: target.hostname, port: Number(target.port || 6379) }], {
      redisOptions,
    });
    client.on('error', () => undefined);
    const driver = redis({ ...options, client });
    // The driver does not close a client it was given; this one is ours.
    const close = driver.close.bind(driver);
    return {
      ...driver,
      async close() {
        await close();
        await client.quit().catch(() => client.disconnect());
      },
    };
  }
  return redis({ ...options, url: target.href });
}
