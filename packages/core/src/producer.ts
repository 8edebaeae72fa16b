// Producers: check and encode what is sent, then hand it to the bus's publish batcher.

import { budget } from './backoff.js';
import { encodeBody } from './codec.js';
import type { DriverV2, OutgoingMessage, SubscriptionSpec } from './driver.js';
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { newMessageId } from './ids.js';
import { INSPECT } from './inspect.js';
import type { PublishBatcher } from './publish-batcher.js';
import {
  checkAttributes,
  checkMilliseconds,
  checkSize,
  checkToken,
  PORTABLE_RULES,
} from './rules.js';
import type { Tracing } from './trace.js';
import type { BatchEntry, Producer, SendOptions } from './types.js';

/** What producers need from the bus. */
export interface ProducerContext {
  readonly driver: DriverV2;
  readonly tracing: Tracing | undefined;
  assertOpen(): void;
  /** Resolves once the topic exists (memoized per topic). */
  topicReady(topic: string): Promise<void>;
  /** Resolves once the topic and each declared subscription (with its DLQ) exist. */
  declarationsReady(topic: string, specs: readonly SubscriptionSpec[]): Promise<void>;
  /** Changes when a topic or subscription was deleted: memoized readiness is stale then. */
  readonly topologyVersion: number;
  readonly publishBatcher: PublishBatcher;
  /** Bound of one send, retries included (the driver's `operationTimeoutMs`). */
  readonly operationTimeoutMs: number;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Turns a body and its options into a checked, encoded message, or throws; nothing is sent.
 * `publishedAt` and `traceparent` are read once per send call, so the messages of a batch share
 * them (reading the clock and the trace context per message cost more than the rest of a check).
 */
export function prepareMessage(
  driver: DriverV2,
  body: unknown,
  options: SendOptions | undefined,
  publishedAt: number,
  traceparent: string | undefined,
): OutgoingMessage {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgumentError('send options must be an object');
  }
  const { attributes, orderingKey, delayMs, id } = options ?? {};
  const capabilities = driver.capabilities;
  if (id !== undefined) checkToken(id, 'id');
  if (orderingKey !== undefined) {
    checkToken(orderingKey, 'orderingKey');
    if (!capabilities.ordering) {
      throw new UnsupportedError(
        `the ${driver.name} adapter does not declare the "ordering" capability, so orderingKey can't be honoured`,
        { driver: driver.name },
      );
    }
  }
  if (delayMs !== undefined && delayMs !== 0) {
    if (capabilities.delayedDelivery === false) {
      throw new UnsupportedError(
        `the ${driver.name} adapter does not declare the "delayedDelivery" capability, so delayMs can't be honoured`,
        { driver: driver.name },
      );
    }
    checkMilliseconds(
      delayMs,
      'delayMs',
      Math.min(capabilities.delayedDelivery, PORTABLE_RULES.maxSendDelayMs),
    );
  }
  const attributeBytes = checkAttributes(attributes);
  const encoded = encodeBody(body);
  checkSize(encoded.bytes.byteLength, attributeBytes, capabilities.maxMessageBytes);
  return {
    id: id ?? newMessageId(publishedAt),
    body: encoded.bytes,
    attributes: attributes === undefined ? NO_ATTRIBUTES : { ...attributes },
    contentType: encoded.contentType,
    publishedAt,
    orderingKey,
    delayMs: delayMs || undefined,
    traceparent,
  };
}

/**
 * A producer for one topic; every check runs before anything is sent. With declared subscriptions,
 * the first send creates the topic and each of them (with its DLQ) before it publishes, so what it
 * sends is kept for consumers that start later.
 */
export class ProducerImpl<T> implements Producer<T> {
  readonly topic: string;
  private readonly finalTopic: string;
  private readonly context: ProducerContext;
  private readonly declared: readonly SubscriptionSpec[] | undefined;
  /** The declarations' creation, once started; cleared on failure so the next send tries again. */
  private declaring: Promise<void> | undefined;
  /** The bus's topologyVersion when `declaring` started: a delete since then means declare again. */
  private declaredVersion = 0;

  /** What `console.log(producer)` shows: its topic, never the bus's client. */
  [INSPECT](): string {
    return `Producer { topic: '${this.topic}' }`;
  }

  toJSON(): object {
    return { topic: this.topic };
  }
  constructor(
    context: ProducerContext,
    topic: string,
    finalTopic: string,
    declared: readonly SubscriptionSpec[] | undefined,
  ) {
    this.context = context;
    this.topic = topic;
    this.finalTopic = finalTopic;
    this.declared = declared;
  }

  /** The topic, and the declared subscriptions, exist. */
  private ready(): Promise<void> {
    if (this.declared === undefined) return this.context.topicReady(this.finalTopic);
    if (this.declaring === undefined || this.declaredVersion !== this.context.topologyVersion) {
      this.declaredVersion = this.context.topologyVersion;
      const declaring = this.context
        .declarationsReady(this.finalTopic, this.declared)
        .catch((error: unknown) => {
          if (this.declaring === declaring) this.declaring = undefined;
          throw error;
        });
      this.declaring = declaring;
    }
    return this.declaring;
  }

  async send(body: T, options?: SendOptions): Promise<string> {
    this.context.assertOpen();
    const message = prepareMessage(
      this.context.driver,
      body,
      options,
      Date.now(),
      this.context.tracing?.current(),
    );
    const bounded = budget(this.context.operationTimeoutMs);
    await this.ready();
    await this.context.publishBatcher.publish(this.finalTopic, [message], bounded);
    return message.id;
  }

  async sendBatch(entries: readonly BatchEntry<T>[]): Promise<string[]> {
    this.context.assertOpen();
    if (!Array.isArray(entries))
      throw new InvalidArgumentError('sendBatch takes an array of { body, ...options }');
    const publishedAt = Date.now();
    const traceparent = this.context.tracing?.current();
    const messages = entries.map((entry, index) => {
      if (typeof entry !== 'object' || entry === null || !('body' in entry)) {
        throw new InvalidArgumentError(`sendBatch entry ${index} must be an object with a body`);
      }
      try {
        // The entry is its own options (prepareMessage reads only theirs): no copy per message.
        return prepareMessage(this.context.driver, entry.body, entry, publishedAt, traceparent);
      } catch (error) {
        if (error instanceof Error) error.message = `sendBatch entry ${index}: ${error.message}`;
        throw error;
      }
    });
    if (messages.length === 0) return [];
    const bounded = budget(this.context.operationTimeoutMs);
    await this.ready();
    await this.context.publishBatcher.publish(this.finalTopic, messages, bounded);
    return messages.map((message) => message.id);
  }
}
