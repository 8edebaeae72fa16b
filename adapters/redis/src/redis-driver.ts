// The Redis Streams driver: its options and capabilities, composed from connection, topology, publisher, subscriptions and DLQ admin.
import { ConfigError, OmnibusError } from '@omnibus/core';
import type { Capabilities, DriverSubscription, DriverV2 } from '@omnibus/core/driver';
import type { Cluster, RedisOptions as IORedisOptions, Redis } from 'ioredis';
import { classifyRedisError } from './classify-error.js';
import { openBlockingConnection, openConnection } from './connection.js';
import { createDeadLetterAdmin } from './dead-letter-admin.js';
import { openDeadLetterCursor } from './dead-letter-cursor.js';
import { createPublisher } from './publisher.js';
import { RedisSubscription } from './redis-subscription.js';
import { createTopology } from './topology.js';

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
 *
 * `nativeDeadLetter`: the maintenance script's backstop dead-letters a delivery that arrives two
 * past `maxAttempts` (core never settled the one after the last), for any portable maxAttempts;
 * it records core's own lease-expiry reason. Publish batches are one script call, kept near a MiB
 * so one call never holds Redis long; settle calls pipeline one command per entry. Keys are per
 * topic and may be 512 MB long, so no derived name is ever shortened (`maxNameLength` is a
 * generous bound on what the adapter writes, not a Redis limit).
 */
export const REDIS_CAPABILITIES: Capabilities = Object.freeze({
  fanout: true,
  ordering: false,
  delayedDelivery: 30 * 24 * 60 * 60 * 1000,
  nackDelayMaxMs: 30 * 24 * 60 * 60 * 1000,
  nativeDeadLetter: Object.freeze({ minAttempts: 1, maxAttempts: 1_000 }),
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 1_000,
  batch: Object.freeze({
    publish: Object.freeze({ maxMessages: 1_000, maxBytes: 1024 * 1024 }),
    settle: Object.freeze({ maxMessages: 1_000 }),
  }),
  attempts: 'exact',
  ackConfirmed: true,
  stats: Object.freeze({ waiting: true, inFlight: true, deadLettered: true }),
  deadLetterAdmin: Object.freeze({
    peek: 'non-destructive',
    count: 'exact',
    redrive: 'subscription',
  }),
  ackDeadline: Object.freeze({ minMs: 1_000, maxMs: 12 * 60 * 60 * 1000 }),
  leaseExtension: 'native',
  maxNameLength: 1_024,
});

/** Builds a Redis Streams driver for `connect()`. */
export function redis(options: RedisOptions = {}): DriverV2 {
  const connection = openConnection(options);
  const { client, guard } = connection;
  const pollIntervalMs = positive(options.pollIntervalMs, 200, 'pollIntervalMs');
  const trimIntervalMs = options.trimIntervalMs ?? 5_000;
  const maxLength = options.maxLength ?? 0;
  const staleConsumerMs = options.staleConsumerMs ?? 3_600_000;
  const topology = createTopology(client, options.keyPrefix ?? 'omnibus:');
  const publisher = createPublisher({
    client,
    topology,
    maxLength,
    trimIntervalMs,
    staleConsumerMs,
  });
  const admin = createDeadLetterAdmin(connection, topology, maxLength);
  const sessions = new Set<RedisSubscription>();

  return {
    specificationVersion: 'v2',
    name: 'redis',
    capabilities: REDIS_CAPABILITIES,
    native: client,
    operationTimeoutMs: connection.operationTimeoutMs,
    classifyError: classifyRedisError,
    ensureTopic: (spec) => guard(() => topology.ensureTopic(spec.topic)),
    ensureSubscription: (spec) => guard(() => topology.ensureSubscription(spec)),
    publish: (topic, messages) => guard(() => publisher.publish(topic, messages)),
    subscribe: (spec) =>
      guard(async (): Promise<DriverSubscription> => {
        try {
          await topology.counts(spec);
        } catch (error) {
          // The server lost a group this driver created (restart without persistence): it existed,
          // so it comes back at 0, as a consumer that meets NOGROUP recreates it.
          if (!(OmnibusError.isInstance(error) && error.code === 'NotFound')) throw error;
          if (!topology.ensuredHere(spec)) throw error;
          await topology.recover(spec);
        }
        connection.checkOpen();
        const keys = topology.subscription(spec);
        const session = new RedisSubscription({
          client,
          topology,
          keys,
          spec,
          pollIntervalMs,
          trimIntervalMs,
          staleConsumerMs,
          maxLength,
          openBlockingConnection: () => openBlockingConnection(client, keys.stream),
          onClose: (closed) => sessions.delete(closed),
        });
        sessions.add(session);
        return session;
      }),
    ...admin,
    openDeadLetters: (ref) => openDeadLetterCursor(connection, topology, ref, maxLength),
    deleteSubscription: (ref) => guard(() => topology.deleteSubscription(ref)),
    deleteTopic: (spec) => guard(() => topology.deleteTopic(spec.topic)),
    close: () =>
      connection.close(async () => {
        await Promise.allSettled([...sessions].map((session) => session.close()));
      }),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(
      `redis option ${name} must be a positive number of ms, got ${String(value)}`,
    );
  return value;
}
