// Topics, subscriptions, DLQ topics and their reader subscriptions: creation, settings check, deletion.

import type { protos } from '@google-cloud/pubsub';
import { OmnibusError, subscriptionNotFound } from '@omnibus/core';
import type { SubscriptionRef, SubscriptionSpec } from '@omnibus/core/driver';
import type { ResourcePaths } from './broker-names.js';
import { GRPC, grpcCode } from './classify-error.js';
import type { Clients } from './clients.js';
import { SERVICE_LIMITS } from './service-limits.js';

type SubscriptionResource = protos.google.pubsub.v1.ISubscription;

/** Labels holding the settings Omnibus fixes when it creates a subscription (label values: `[a-z0-9_-]`). */
const LABEL = {
  maxAttempts: 'omnibus-max-attempts',
  deadLetter: 'omnibus-dead-letter',
} as const;

/** Attempts between core's maxAttempts and the service's dead-letter policy (releases count there). */
export const DELIVERY_LIMIT_MARGIN = 10;

/**
 * The dead-letter policy's maxDeliveryAttempts for a subscription, or `undefined` where none fits:
 * strictly above maxAttempts (core dead-letters first, with the reason), within the service's 5–100.
 */
export function nativeDeliveryLimit(spec: SubscriptionSpec): number | undefined {
  if (!spec.deadLetter || !Number.isFinite(spec.maxAttempts)) return undefined;
  if (spec.maxAttempts >= SERVICE_LIMITS.maxDeliveryAttempts) return undefined;
  return Math.max(
    SERVICE_LIMITS.minDeliveryAttempts,
    Math.min(SERVICE_LIMITS.maxDeliveryAttempts, spec.maxAttempts + DELIVERY_LIMIT_MARGIN),
  );
}

function settingLabels(spec: SubscriptionSpec): Record<string, string> {
  return {
    [LABEL.maxAttempts]: Number.isFinite(spec.maxAttempts) ? String(spec.maxAttempts) : 'infinity',
    [LABEL.deadLetter]: String(spec.deadLetter),
  };
}

/** Creates and deletes what the driver maps topics and subscriptions onto. */
export class Topology {
  readonly #clients: Clients;
  readonly #paths: ResourcePaths;
  readonly #driverName: string;
  /** Topics this driver created or found, so each is created once. */
  readonly #topics = new Map<string, Promise<void>>();

  constructor(clients: Clients, paths: ResourcePaths, driverName: string) {
    this.#clients = clients;
    this.#paths = paths;
    this.#driverName = driverName;
  }

  ensureTopic(topicPath: string): Promise<void> {
    let ready = this.#topics.get(topicPath);
    if (ready === undefined) {
      ready = this.#createTopic(topicPath).catch((error: unknown) => {
        this.#topics.delete(topicPath);
        throw error;
      });
      this.#topics.set(topicPath, ready);
    }
    return ready;
  }

  async #createTopic(topicPath: string): Promise<void> {
    try {
      await this.#clients.call((options) =>
        this.#clients.publisher.createTopic({ name: topicPath }, options),
      );
    } catch (error) {
      if (grpcCode(error) !== GRPC.ALREADY_EXISTS) throw error;
    }
  }

  /**
   * Creates the topic, the DLQ topic and its reader subscription (so nothing dead-lettered is
   * lost), then the subscription with `enableMessageOrdering`, the ack deadline, the settings as
   * labels and, where one fits, the dead-letter policy. An existing subscription is checked
   * against the labels: another `maxAttempts`, `deadLetter` or ordering is `AlreadyExists`.
   */
  async ensureSubscription(spec: SubscriptionSpec): Promise<void> {
    await this.ensureTopic(this.#paths.topic(spec.topic));
    const deadLetterTopic = this.#paths.deadLetterTopic(spec);
    if (spec.deadLetter) {
      await this.ensureTopic(deadLetterTopic);
      await this.#createSubscription({
        name: this.#paths.deadLetterSubscription(spec),
        topic: deadLetterTopic,
        ackDeadlineSeconds: SERVICE_LIMITS.ackDeadlineMinSeconds * 3,
      });
    }
    const limit = nativeDeliveryLimit(spec);
    const created = await this.#createSubscription({
      name: this.#paths.subscription(spec),
      topic: this.#paths.topic(spec.topic),
      // The service's minimum, whatever the consumer's lease: the session sets each pulled batch
      // to that lease before core sees it, so what this bounds is a pull whose answer never
      // reached the client (its deadline raced the answer, the connection was cut mid-reply):
      // those messages come back after 10 s instead of after the consumer's whole lease.
      ackDeadlineSeconds: SERVICE_LIMITS.ackDeadlineMinSeconds,
      enableMessageOrdering: spec.ordering,
      labels: settingLabels(spec),
      ...(limit === undefined
        ? {}
        : { deadLetterPolicy: { deadLetterTopic, maxDeliveryAttempts: limit } }),
    });
    if (!created) this.#checkSettings(spec, await this.subscription(spec));
  }

  /** Creates a subscription; `false` if it already existed. */
  async #createSubscription(resource: SubscriptionResource): Promise<boolean> {
    try {
      await this.#clients.call((options) =>
        this.#clients.subscriber.createSubscription(resource, options),
      );
      return true;
    } catch (error) {
      if (grpcCode(error) === GRPC.ALREADY_EXISTS) return false;
      throw error;
    }
  }

  #checkSettings(spec: SubscriptionSpec, existing: SubscriptionResource): void {
    const labels = existing.labels ?? {};
    const wanted = settingLabels(spec);
    // deadLetter first: without a DLQ, maxAttempts is infinity whatever was asked.
    const differences: [string, string | undefined, string][] = [
      ['deadLetter', labels[LABEL.deadLetter], wanted[LABEL.deadLetter]!],
      ['maxAttempts', labels[LABEL.maxAttempts], wanted[LABEL.maxAttempts]!],
      ['ordering', String(existing.enableMessageOrdering ?? false), String(spec.ordering)],
    ];
    for (const [name, have, want] of differences) {
      // A subscription Omnibus didn't create has no labels: nothing to compare.
      if (have === undefined || have === want) continue;
      throw new OmnibusError(
        'AlreadyExists',
        `subscription "${spec.subscription}" on topic "${spec.topic}" already exists with ${name} ${have}; this consumer asks for ${name} ${want} (${name} is fixed when a subscription is first created)`,
        { driver: this.#driverName, retryable: false },
      );
    }
  }

  /** The subscription resource; `NotFound` (core's wording) if it doesn't exist. */
  async subscription(ref: SubscriptionRef): Promise<SubscriptionResource> {
    try {
      const [resource] = await this.#clients.call((options) =>
        this.#clients.subscriber.getSubscription(
          { subscription: this.#paths.subscription(ref) },
          options,
        ),
      );
      return resource;
    } catch (error) {
      if (grpcCode(error) === GRPC.NOT_FOUND) throw subscriptionNotFound(ref, this.#driverName);
      throw error;
    }
  }

  /** Deletes the subscription, its DLQ reader and DLQ topic; `true` if any of them existed. */
  async deleteSubscription(ref: SubscriptionRef): Promise<boolean> {
    const results = await Promise.all([
      this.#deleteSubscriptionPath(this.#paths.subscription(ref)),
      this.#deleteSubscriptionPath(this.#paths.deadLetterSubscription(ref)),
    ]);
    const topicPath = this.#paths.deadLetterTopic(ref);
    this.#topics.delete(topicPath);
    const dlqTopic = await this.#deleteTopicPath(topicPath);
    return results.some(Boolean) || dlqTopic;
  }

  /** Deletes the topic alone (its subscriptions stay, detached); `true` if it existed. */
  async deleteTopic(topic: string): Promise<boolean> {
    const topicPath = this.#paths.topic(topic);
    this.#topics.delete(topicPath);
    return this.#deleteTopicPath(topicPath);
  }

  async #deleteSubscriptionPath(subscription: string): Promise<boolean> {
    try {
      await this.#clients.call((options) =>
        this.#clients.subscriber.deleteSubscription({ subscription }, options),
      );
      return true;
    } catch (error) {
      if (grpcCode(error) === GRPC.NOT_FOUND) return false;
      throw error;
    }
  }

  async #deleteTopicPath(topic: string): Promise<boolean> {
    try {
      await this.#clients.call((options) =>
        this.#clients.publisher.deleteTopic({ topic }, options),
      );
      return true;
    } catch (error) {
      if (grpcCode(error) === GRPC.NOT_FOUND) return false;
      throw error;
    }
  }
}
