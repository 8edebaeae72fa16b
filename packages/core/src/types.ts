// The public types of the portable API: Bus, Producer, Consumer, Message, DeadLetters and options.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Capabilities, DriverStats } from './driver.js';
import type { OmnibusError } from './errors.js';

/** String-to-string message attributes (headers). */
export type Attributes = Record<string, string>;

/** Options of one `send`. */
export interface SendOptions {
  /** String-to-string metadata carried in the broker's own attributes/headers. */
  attributes?: Attributes;
  /** Messages sharing a key reach the handler in send order where `bus.capabilities.ordering`. */
  orderingKey?: string;
  /** Not delivered before this many ms from now (≤ `bus.capabilities.delayedDelivery`). */
  delayMs?: number;
  /** Message id; a new UUIDv7 when absent. Stable across redeliveries, dead-lettering and redrive. */
  id?: string;
}

/** One entry of `sendBatch`. */
export interface BatchEntry<T> extends SendOptions {
  body: T;
}

/**
 * A subscription a producer feeds, with the settings it is created with when the producer creates
 * it: the same settings, with the same defaults, as the consumer options of those names. They are
 * fixed once the subscription exists: a consumer or another declaration asking different ones gets
 * `AlreadyExists` naming the setting.
 */
export interface SubscriptionDeclaration {
  /** Deliveries before a message is dead-lettered. @default 5 */
  maxAttempts?: number;
  /** `false`: no DLQ, failed messages are retried forever. @default true */
  deadLetter?: boolean;
}

/** Subscription name → its settings; `{}` takes the defaults. */
export type SubscriptionDeclarations = Record<string, SubscriptionDeclaration>;

/** Options of `bus.producer()`. */
export interface ProducerOptions {
  /**
   * The subscriptions this topic feeds. The producer's first send creates the topic and each of
   * them (with its DLQ) before it publishes, so messages sent before any consumer ran are kept
   * (without a declaration, a message sent to a topic no subscription exists on yet is dropped, as
   * on every broker). Example: `bus.producer('orders', { subscriptions: { kitchen: { maxAttempts:
   * 3 }, audit: {} } })`.
   */
  subscriptions?: SubscriptionDeclarations;
}

/** Sends messages to one topic. */
export interface Producer<T = unknown> {
  readonly topic: string;
  /** Resolves with the message id once the broker accepted the message durably. */
  send(body: T, options?: SendOptions): Promise<string>;
  /** Sends many; resolves with their ids in order once every one was accepted. */
  sendBatch(entries: readonly BatchEntry<T>[]): Promise<string[]>;
}

/** How a settled message ended. */
export type Outcome = 'acked' | 'nacked' | 'dead-lettered';

/** A received message. Settle it once: a second settle is a no-op returning the first outcome. */
export interface Message<T = unknown> {
  readonly id: string;
  readonly body: T;
  readonly attributes: Readonly<Attributes>;
  /** 1 on first delivery, counting every delivery after it. */
  readonly attempt: number;
  readonly publishedAt: Date;
  readonly orderingKey: string | undefined;
  /** The broker's own message object. */
  readonly native: unknown;
  /** Whether (and how) the message has been settled. */
  readonly outcome: Outcome | undefined;
  ack(): Promise<Outcome>;
  /** Releases the message for redelivery, no sooner than `delayMs` (default 0). */
  nack(options?: { delayMs?: number }): Promise<Outcome>;
  /** Moves the message to the subscription's DLQ with `reason`. */
  deadLetter(reason: string): Promise<Outcome>;
  /** Pushes the lease `ms` into the future (automatic while a push handler runs). */
  extendLease(ms: number): Promise<void>;
}

/**
 * A push handler. When it returns (or resolves) the message is acked; when it throws (or rejects)
 * the message is nacked with backoff, or dead-lettered on the last attempt; unless it settled the
 * message itself.
 */
export type Handler<T> = (message: Message<T>) => unknown;

/** Backoff between attempts: exponential from `initialDelayMs`, capped at `maxDelayMs`, with jitter. */
export interface RetryOptions {
  /** @default 1000 */
  initialDelayMs?: number;
  /** @default 60000 */
  maxDelayMs?: number;
}

/** Options of `bus.consumer()`. */
export interface ConsumerOptions<T = unknown> {
  /** Handlers in flight at most (and, for `messages()`, unsettled messages held at most). @default 10 */
  concurrency?: number;
  /** Deliveries before the message is dead-lettered. @default 5 */
  maxAttempts?: number;
  retry?: RetryOptions;
  /** `false`: no DLQ, failed messages are retried forever. @default true */
  deadLetter?: boolean;
  /** Lease length, renewed automatically while a handler runs. @default 30000 */
  ackDeadlineMs?: number;
  /**
   * Messages sharing an `orderingKey` reach the handler one at a time, in send order. `true`
   * without `bus.capabilities.ordering` is `Unsupported`, before any I/O. Some brokers fix it when
   * the subscription is created (Pub/Sub). @default bus.capabilities.ordering
   */
  ordering?: boolean;
  /** Any Standard Schema (zod, valibot, arktype…); a message failing it is dead-lettered at once. */
  schema?: StandardSchemaV1<unknown, T>;
  /** How long `stop()` waits for running handlers before releasing their messages. @default 30000 */
  shutdownTimeoutMs?: number;
  /**
   * Called with errors of the background work (receive, ack, lease renewal); the consumer carries
   * on. Messages are already free of credentials. @default a one-line `console.warn`
   */
  onError?: (error: OmnibusError) => void;
}

/** Counts for a subscription; `undefined` where the broker can't tell. */
export type ConsumerStats = DriverStats;

/** One subscription's consumer. */
export interface Consumer<T = unknown> {
  readonly topic: string;
  readonly subscription: string;
  /** Creates (or verifies) the topic, the subscription and its DLQ without consuming. */
  ready(): Promise<void>;
  /** Calls `ready()`, then runs `handler` for each message until `stop()`. */
  start(handler: Handler<T>): Promise<void>;
  /** Stops taking messages, finishes the ones in flight, releases the rest. */
  stop(): Promise<void>;
  /** Pull messages instead of pushing them to a handler; settle each yourself. */
  messages(): AsyncIterableIterator<Message<T>>;
  stats(): Promise<ConsumerStats>;
}

/** A message in a dead-letter queue. */
export interface DeadLetter<T = unknown> {
  readonly id: string;
  /** Decoded body; the raw bytes when the message could not be decoded (which may be why it is here). */
  readonly body: T | Uint8Array;
  readonly attributes: Readonly<Attributes>;
  readonly attempts: number;
  readonly reason: string;
  readonly deadLetteredAt: Date;
  readonly publishedAt: Date;
  readonly orderingKey: string | undefined;
  readonly native: unknown;
}

/** The dead-letter queue of one subscription. */
export interface DeadLetters<T = unknown> {
  count(): Promise<number>;
  /**
   * The oldest dead letters, at most `limit` (default 10), left where they are. Where
   * `bus.capabilities.deadLetterAdmin.peek` is `count-bumping` (SQS, Pub/Sub) peeking is a receive
   * the broker counts; where it is `none`, `Unsupported`.
   */
  peek(limit?: number): Promise<DeadLetter<T>[]>;
  /**
   * Moves dead letters back to the subscription, same id, attempts reset; resolves with how many.
   * Where `bus.capabilities.deadLetterAdmin.redrive` is `topic` (Pub/Sub), they reach every
   * subscription of the topic.
   */
  redrive(options?: { limit?: number }): Promise<number>;
  /** Deletes every dead letter; resolves with how many (undefined if the broker can't tell). */
  purge(): Promise<number | undefined>;
}

/** A connection to one broker. */
export interface Bus {
  /** Adapter name (`memory`, `redis`, …). */
  readonly adapter: string;
  readonly capabilities: Capabilities;
  /** The underlying client: the escape hatch. */
  readonly native: unknown;
  /** A producer for `topic`; `options.subscriptions` declares the subscriptions it feeds. */
  producer<T = unknown>(topic: string, options?: ProducerOptions): Producer<T>;
  /**
   * Creates the topic and each declared subscription (with its DLQ), if they don't exist yet, so
   * messages sent from now on are kept for them even before any consumer runs. A declaration that
   * disagrees with an existing subscription's `maxAttempts` or `deadLetter` (declared, or created by
   * a consumer) rejects with `AlreadyExists` naming the setting.
   */
  declare(topic: string, subscriptions: SubscriptionDeclarations): Promise<void>;
  consumer<T = unknown>(
    topic: string,
    subscription: string,
    options?: ConsumerOptions<T>,
  ): Consumer<T>;
  deadLetters<T = unknown>(topic: string, subscription: string): DeadLetters<T>;
  /**
   * Resolves when every subscription a consumer of this bus reads is empty, no handler runs and no
   * delayed message is due. Only where the driver can tell (memory); `Unsupported` elsewhere.
   */
  settled(): Promise<void>;
  /** Stops every consumer (losing nothing) and closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Namespaces every topic and subscription name (tests, tenants). Also `?prefix=` in a URL. */
  prefix?: string;
}
