/**
 * Key layout. Every key of a topic carries the topic name as its hash tag (`{…}`), so a topic, its
 * delayed set and all its subscriptions' retry streams and DLQs live in one Redis Cluster slot and
 * every Lua script can touch them together. Names reaching the driver are already prefixed by core
 * and limited to letters, digits, `-` and `_`, so they never contain a brace or a colon.
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

export interface SubscriptionKeys extends TopicKeys {
  /** Stream of redeliveries (nacks, releases, redrives) for this subscription only. */
  readonly retry: string;
  /** Sorted set of nacked messages waiting for their delay, bound for `retry`. */
  readonly retryDelayed: string;
  /** The subscription's dead-letter stream. */
  readonly deadLetters: string;
}

export function topicKeys(keyPrefix: string, topic: string): TopicKeys {
  const stream = `${keyPrefix}{${topic}}`;
  return { stream, delayed: `${stream}:delayed`, subscriptions: `${stream}:subscriptions` };
}

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
