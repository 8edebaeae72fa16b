// The Pub/Sub resource names the adapter derives from topic and subscription names.
import { brokerName } from '@omnibus/core';
import type { SubscriptionRef } from '@omnibus/core/driver';

/**
 * Pub/Sub names topics and subscriptions project-wide, at most 255 characters, starting with a
 * letter, from letters, digits and `-_.~+%` (https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names).
 * Core's names (letters, digits, `-`, `_`) fit, so `.` is a safe separator; `brokerName()` shortens
 * with a hash only where a name would not fit (never with today's portable limits).
 *
 * | object | kind | name |
 * |---|---|---|
 * | topic | topic | `T` |
 * | subscription | subscription on `T` | `T.S` |
 * | DLQ | topic (the dead-letter policy's target) | `T.S.dlq` |
 * | DLQ reader | subscription on `T.S.dlq` (without it, dead letters are lost) | `T.S.dlq` |
 */
export const MAX_NAME_LENGTH = 255;

/** Fully qualified names of one project. */
export interface ResourcePaths {
  readonly projectId: string;
  topic(topic: string): string;
  subscription(ref: SubscriptionRef): string;
  deadLetterTopic(ref: SubscriptionRef): string;
  deadLetterSubscription(ref: SubscriptionRef): string;
}

export function resourcePaths(projectId: string): ResourcePaths {
  const deadLetterName = (ref: SubscriptionRef) =>
    brokerName([ref.topic, ref.subscription, 'dlq'], MAX_NAME_LENGTH);
  return {
    projectId,
    topic: (topic) => `projects/${projectId}/topics/${topic}`,
    subscription: (ref) =>
      `projects/${projectId}/subscriptions/${brokerName([ref.topic, ref.subscription], MAX_NAME_LENGTH)}`,
    deadLetterTopic: (ref) => `projects/${projectId}/topics/${deadLetterName(ref)}`,
    deadLetterSubscription: (ref) => `projects/${projectId}/subscriptions/${deadLetterName(ref)}`,
  };
}
