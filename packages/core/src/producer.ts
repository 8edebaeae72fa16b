import { budget, type RetryBudget, withRetries } from './backoff.js';
import { encodeBody } from './codec.js';
import type { DriverV1, OutgoingMessage } from './driver.js';
import { InvalidArgumentError, toOmnibusError, UnsupportedError } from './errors.js';
import { newMessageId } from './ids.js';
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
  readonly driver: DriverV1;
  readonly tracing: Tracing | undefined;
  assertOpen(): void;
  /** Resolves once the topic exists (memoized per topic). */
  topicReady(topic: string): Promise<void>;
  readonly publisher: Publisher;
  /** Bound of one send, retries included (the driver's `operationTimeoutMs`). */
  readonly operationTimeoutMs: number;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** Turns a body and its options into a checked, encoded message, or throws; nothing is sent. */
export function prepareMessage(
  driver: DriverV1,
  tracing: Tracing | undefined,
  body: unknown,
  options: SendOptions | undefined,
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
    id: id ?? newMessageId(),
    body: encoded.bytes,
    attributes: attributes === undefined ? NO_ATTRIBUTES : { ...attributes },
    contentType: encoded.contentType,
    publishedAt: Date.now(),
    orderingKey,
    delayMs: delayMs || undefined,
    traceparent: tracing?.current(),
  };
}

/** One `send` or `sendBatch` call waiting for its messages to be confirmed. */
interface Pending {
  readonly messages: readonly OutgoingMessage[];
  readonly budget: RetryBudget;
  /** Driver batches still unconfirmed. */
  chunks: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Coalesces sends made in the same tick into driver-sized batches per topic, so concurrent `send`
 * calls cost one broker round trip per batch instead of one per message.
 */
export class Publisher {
  private readonly driver: DriverV1;
  private readonly queues = new Map<string, Pending[]>();
  private scheduled = false;
  private readonly sending = new Set<Promise<void>>();
  /** Messages handed to the publisher and not yet confirmed or failed. */
  inFlight = 0;
  private readonly onIdle: () => void;

  constructor(driver: DriverV1, onIdle: () => void) {
    this.driver = driver;
    this.onIdle = onIdle;
  }

  /** Resolves once the broker accepted every one of `messages`. */
  publish(topic: string, messages: readonly OutgoingMessage[], budget: RetryBudget): Promise<void> {
    let queue = this.queues.get(topic);
    if (queue === undefined) {
      queue = [];
      this.queues.set(topic, queue);
    }
    const group = queue;
    this.inFlight += messages.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return new Promise<void>((resolve, reject) => {
      group.push({ messages, budget, chunks: 0, settled: false, resolve, reject });
    });
  }

  /** Resolves once every message handed over so far was confirmed or failed. */
  async drain(): Promise<void> {
    do {
      await Promise.resolve();
      await Promise.allSettled([...this.sending]);
    } while (this.scheduled || this.sending.size > 0);
  }

  private flush(): void {
    this.scheduled = false;
    const size = this.driver.capabilities.maxBatchSize;
    for (const [topic, queue] of this.queues) {
      this.queues.delete(topic);
      let chunk: OutgoingMessage[] = [];
      let owners = new Set<Pending>();
      for (const pending of queue) {
        for (const message of pending.messages) {
          if (!owners.has(pending)) {
            owners.add(pending);
            pending.chunks++;
          }
          chunk.push(message);
          if (chunk.length === size) {
            this.send(topic, chunk, owners);
            chunk = [];
            owners = new Set();
          }
        }
      }
      if (chunk.length > 0) this.send(topic, chunk, owners);
    }
  }

  private send(topic: string, chunk: OutgoingMessage[], owners: Set<Pending>): void {
    // Sends coalesced in one tick share a chunk; the earliest deadline among them bounds it.
    let earliest: RetryBudget | undefined;
    for (const owner of owners)
      if (earliest === undefined || owner.budget.deadlineAt < earliest.deadlineAt)
        earliest = owner.budget;
    const sending = withRetries(
      () => this.driver.publish(topic, chunk),
      (error) => toOmnibusError(error, this.driver, `publish to topic "${topic}" failed`),
      earliest!,
    )
      .then(
        () => {
          for (const owner of owners) {
            if (--owner.chunks === 0 && !owner.settled) {
              owner.settled = true;
              owner.resolve();
            }
          }
        },
        (error: unknown) => {
          for (const owner of owners) {
            if (owner.settled) continue;
            owner.settled = true;
            owner.reject(error);
          }
        },
      )
      .finally(() => {
        this.sending.delete(sending);
        this.inFlight -= chunk.length;
        if (this.inFlight === 0) this.onIdle();
      });
    this.sending.add(sending);
  }
}

export class ProducerImpl<T> implements Producer<T> {
  readonly topic: string;
  private readonly finalTopic: string;
  private readonly context: ProducerContext;

  constructor(context: ProducerContext, topic: string, finalTopic: string) {
    this.context = context;
    this.topic = topic;
    this.finalTopic = finalTopic;
  }

  async send(body: T, options?: SendOptions): Promise<string> {
    this.context.assertOpen();
    const message = prepareMessage(this.context.driver, this.context.tracing, body, options);
    const bounded = budget(this.context.operationTimeoutMs);
    await this.context.topicReady(this.finalTopic);
    await this.context.publisher.publish(this.finalTopic, [message], bounded);
    return message.id;
  }

  async sendBatch(entries: readonly BatchEntry<T>[]): Promise<string[]> {
    this.context.assertOpen();
    if (!Array.isArray(entries))
      throw new InvalidArgumentError('sendBatch takes an array of { body, ...options }');
    const messages = entries.map((entry, index) => {
      if (typeof entry !== 'object' || entry === null || !('body' in entry)) {
        throw new InvalidArgumentError(`sendBatch entry ${index} must be an object with a body`);
      }
      const { body, ...options } = entry;
      try {
        return prepareMessage(this.context.driver, this.context.tracing, body, options);
      } catch (error) {
        if (error instanceof Error) error.message = `sendBatch entry ${index}: ${error.message}`;
        throw error;
      }
    });
    if (messages.length === 0) return [];
    const bounded = budget(this.context.operationTimeoutMs);
    await this.context.topicReady(this.finalTopic);
    await this.context.publisher.publish(this.finalTopic, messages, bounded);
    return messages.map((message) => message.id);
  }
}
