// Where a topic and its subscriptions live in Redis (keys, the registry hash, consumer groups), and their creation.
import { InvalidArgumentError, OmnibusError, subscriptionNotFound } from '@omnibus/core';
import type { SubscriptionRef, SubscriptionSpec } from '@omnibus/core/driver';
import type { Cluster, Redis } from 'ioredis';
import { deleteSubscriptionKeys } from './scripts/delete-subscription.js';
import { deleteTopicKeys } from './scripts/delete-topic.js';
import { ensureSubscriptionGroups } from './scripts/ensure-subscription-groups.js';
import { ensureTopicStream } from './scripts/ensure-topic-stream.js';
import { type SubscriptionCounts, subscriptionCounts } from './scripts/subscription-counts.js';

/**
 * Key layout. Every key of a topic carries the topic name as its hash tag (`{…}`), so a topic, its
 * delayed set and all its subscriptions' retry streams and DLQs live in one Redis Cluster slot and
 * every Lua script can touch them together. Names reaching the driver are already prefixed by core
 * and limited to letters, digits, `-` and `_`, so they never contain a brace or a colon. Keys are
 * per topic (the subscription name is only unique within its topic, and is the consumer group's
 * name), so they never need `brokerName()`'s shortening: Redis keys may be 512 MB long.
 */
export interface TopicKeys {
  /** The topic's stream: every subscription's consumer group reads it. */
  readonly stream: string;
  /** Sorted set of messages published with a delay, scored by due time. */
  readonly delayed: string;
  /**
   * Hash of the topic's subscriptions (name → settings), the retention pass's list of who may still
   * need an entry even while their consumer group is missing. Fields starting with `~` are the
   * registry's own state (`~complete`, `~lost-at`); subscription names never start with one.
   */
  readonly subscriptions: string;
}

/** Where a subscription's own data lives, besides its consumer group (named after it) on the topic stream. */
export interface SubscriptionKeys extends TopicKeys {
  /** Stream of redeliveries (nacks, releases, redrives) for this subscription only. */
  readonly retry: string;
  /** Sorted set of nacked messages waiting for their delay, bound for `retry`. */
  readonly retryDelayed: string;
  /** The subscription's dead-letter stream. */
  readonly deadLetters: string;
}

/** The keys of a topic under `keyPrefix` (the driver's `keyPrefix` option, `omnibus:` by default). */
export function topicKeys(keyPrefix: string, topic: string): TopicKeys {
  const stream = `${keyPrefix}{${topic}}`;
  return { stream, delayed: `${stream}:delayed`, subscriptions: `${stream}:subscriptions` };
}

/** The keys of a subscription (its topic's too) under `keyPrefix`. */
export function subscriptionKeys(
  keyPrefix: string,
  topic: string,
  subscription: string,
): SubscriptionKeys {
  const topicLevel = topicKeys(keyPrefix, topic);
  const base = `${topicLevel.stream}:sub:${subscription}`;
  return {
    ...topicLevel,
    retry: `${base}:retry`,
    retryDelayed: `${base}:retry-delayed`,
    deadLetters: `${base}:dlq`,
  };
}

/** The settings fixed when a subscription is first created, as the registry stores them. */
export function encodeSubscriptionSettings(spec: SubscriptionSpec): string {
  return `maxAttempts=${spec.maxAttempts};deadLetter=${spec.deadLetter}`;
}

/**
 * Throws `AlreadyExists` naming the first setting in which `spec` differs from `stored` (what the
 * registry holds: the first consumer or declaration to create the subscription, on any bus or
 * process, fixed them). A value this version cannot parse is not compared. `ackDeadlineMs` is not
 * a subscription setting here: each consumer's deliveries are leased for what it asked.
 */
export function checkSubscriptionSettings(spec: SubscriptionSpec, stored: string): void {
  const fields = new Map<string, string>();
  for (const part of stored.split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals), part.slice(equals + 1));
  }
  // deadLetter first: turning the DLQ off also makes maxAttempts Infinity, and the DLQ is the cause.
  const asked: [string, string][] = [
    ['deadLetter', String(spec.deadLetter)],
    ['maxAttempts', String(spec.maxAttempts)],
  ];
  for (const [name, value] of asked) {
    const existing = fields.get(name);
    if (existing !== undefined && existing !== value) {
      throw new OmnibusError(
        'AlreadyExists',
        `subscription "${spec.subscription}" on topic "${spec.topic}" already exists with ${name} ${existing}; this consumer asks for ${name} ${value} (${name} is fixed when a subscription is first created)`,
        { driver: 'redis', retryable: false },
      );
    }
  }
}

/** Topics and subscriptions of one driver: creation, recovery after data loss, existence. */
export interface Topology {
  readonly keyPrefix: string;
  topic(topic: string): TopicKeys;
  subscription(ref: SubscriptionRef): SubscriptionKeys;
  ensureTopic(topic: string): Promise<void>;
  /** Creates the groups and registers the settings; `AlreadyExists` if the registry holds others. */
  ensureSubscription(spec: SubscriptionSpec): Promise<void>;
  /** Recreates the groups of a subscription the server lost, reading from 0; `NotFound` if it was deleted on purpose. */
  recover(spec: SubscriptionSpec): Promise<void>;
  /** Deletes the subscription's group and keys; true if any of them existed. */
  deleteSubscription(ref: SubscriptionRef): Promise<boolean>;
  /** Deletes the topic's keys; true if any existed. `InvalidArgument` naming them while subscriptions exist. */
  deleteTopic(topic: string): Promise<boolean>;
  /** The subscription's counts; `NotFound` (core's `subscriptionNotFound`) if its groups are missing. */
  counts(ref: SubscriptionRef): Promise<SubscriptionCounts>;
  /** Whether this driver created the subscription (so one the server lost is recreated, not refused). */
  ensuredHere(ref: SubscriptionRef): boolean;
}

export function createTopology(client: Redis | Cluster, keyPrefix: string): Topology {
  /** Subscriptions this driver created: if the server loses one, this driver knows it existed. */
  const ensured = new Set<string>();
  const refKey = (ref: SubscriptionRef) => `${ref.topic}\u0000${ref.subscription}`;
  const keysOf = (ref: SubscriptionRef) => subscriptionKeys(keyPrefix, ref.topic, ref.subscription);
  return {
    keyPrefix,
    topic: (topic) => topicKeys(keyPrefix, topic),
    subscription: keysOf,
    async ensureTopic(topic) {
      await ensureTopicStream(client, topicKeys(keyPrefix, topic));
    },
    async ensureSubscription(spec) {
      const stored = await ensureSubscriptionGroups(client, keysOf(spec), {
        group: spec.subscription,
        mode: 'create',
        settings: encodeSubscriptionSettings(spec),
      });
      checkSubscriptionSettings(spec, stored);
      ensured.add(refKey(spec));
    },
    async recover(spec) {
      try {
        await ensureSubscriptionGroups(client, keysOf(spec), {
          group: spec.subscription,
          mode: 'recover',
          settings: encodeSubscriptionSettings(spec),
        });
      } catch (error) {
        if (error instanceof Error && error.message.includes('DELETED'))
          throw subscriptionNotFound(spec, 'redis');
        throw error;
      }
    },
    async deleteSubscription(ref) {
      // Forgotten first: this driver's own consumers must not recreate it as a lost group.
      ensured.delete(refKey(ref));
      return deleteSubscriptionKeys(client, keysOf(ref), { group: ref.subscription });
    },
    async deleteTopic(topic) {
      const outcome = await deleteTopicKeys(client, topicKeys(keyPrefix, topic));
      if (!outcome.refused) return outcome.existed;
      const names = outcome.subscriptions.map((name) => `"${name}"`).join(', ');
      throw new InvalidArgumentError(
        `topic "${topic}" still has subscriptions (${names}): on Redis they live inside the topic's stream, so delete them first (deleteSubscription)`,
        { driver: 'redis' },
      );
    },
    async counts(ref) {
      const counts = await subscriptionCounts(client, keysOf(ref), { group: ref.subscription });
      if (!counts.found) throw subscriptionNotFound(ref, 'redis');
      return counts;
    },
    ensuredHere: (ref) => ensured.has(refKey(ref)),
  };
}
