// The public types of the portable API: Bus, Producer, Consumer, Message, DeadLetters and options.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Capabilities, DriverStats } from './driver.js';
import type { OmnibusError } from './errors.js';

/** String-to-string message attributes (headers). */
export type Attributes = Record<string, string>;

/** Options of one `send`. */
export interface SendOptions {
  /**
   * String-to-string metadata carried in the broker's own attributes/headers: at most 8, names of
   * 1–128 letters, digits, `_`, `-`, `.` (not the reserved prefixes `omnibus`, `x-`, `goog`,
   * `aws.`, `amazon.`, `cloudpubsub`), values of 1–1,024 bytes. Counted in the message size.
   */
  attributes?: Attributes;
  /**
   * Messages sharing a key reach the handler in send order, one at a time, where
   * `bus.capabilities.ordering`; elsewhere it throws `Unsupported`. 1–128 printable ASCII
   * characters.
   */
  orderingKey?: string;
  /**
   * Not delivered before this many ms from now: 0–900,000 (the portable bound) and at most
   * `bus.capabilities.delayedDelivery`; a non-zero delay where that is `false` throws
   * `Unsupported`.
   * @default 0
   */
  delayMs?: number;
  /**
   * Message id; a new UUIDv7 when absent. Stable across redeliveries, dead-lettering and redrive,
   * so it is the key to deduplicate on. 1–128 printable ASCII characters.
   */
  id?: string;
}

/** One entry of `sendBatch`. */
export interface BatchEntry<T> extends SendOptions {
  /** The message body: JSON-encoded, or sent as raw bytes when it is a `Uint8Array`. */
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
  /**
   * Hand messages sharing an `orderingKey` to the handler in send order, one at a time; fixed when
   * the subscription is created (as on Pub/Sub), so a consumer asking otherwise gets
   * `AlreadyExists`. @default `bus.capabilities.ordering` (`true` without it: `Unsupported`)
   */
  ordering?: boolean;
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
  /** The topic name as given, without the connection's prefix. */
  readonly topic: string;
  /**
   * Resolves with the message id once the broker accepted the message durably. Names, attributes
   * and size are checked first (`InvalidArgument`, `MessageTooLarge`: nothing is sent). A rejection
   * means the message may not have been sent; retryable failures are retried within
   * `operationTimeoutMs` before it rejects.
   */
  send(body: T, options?: SendOptions): Promise<string>;
  /**
   * Sends many; resolves with their ids in order once every one was accepted. An invalid entry
   * fails the whole batch, naming its index, before anything is sent.
   */
  sendBatch(entries: readonly BatchEntry<T>[]): Promise<string[]>;
}

/** How a settled message ended. */
export type Outcome = 'acked' | 'nacked' | 'dead-lettered';

/** A received message. Settle it once: a second settle is a no-op returning the first outcome. */
export interface Message<T = unknown> {
  /**
   * The id given at send (or a new UUIDv7); the same on every redelivery, in the DLQ and after
   * redrive.
   */
  readonly id: string;
  /**
   * The decoded body (validated by the consumer's `schema`, if any); raw bytes were sent as a
   * `Uint8Array`.
   */
  readonly body: T;
  /** The attributes given at send; for a message a plain client sent, its headers as strings. */
  readonly attributes: Readonly<Attributes>;
  /**
   * 1 on first delivery, counting every delivery a handler got after it (failure, nack, lease
   * expiry, a crashed consumer). A release (a delivery no handler saw, handed back by `stop()`)
   * does not count. Starts again at 1 after a redrive.
   */
  readonly attempt: number;
  /** When the message was first sent (not when it was redelivered). */
  readonly publishedAt: Date;
  /** The ordering key given at send, if any. */
  readonly orderingKey: string | undefined;
  /** The broker's own message object. */
  readonly native: unknown;
  /** Whether (and how) the message has been settled. */
  readonly outcome: Outcome | undefined;
  /** Acknowledges: the message is done for this subscription. Resolves with the first outcome. */
  ack(): Promise<Outcome>;
  /**
   * Releases the message for redelivery, no sooner than `delayMs` (0–600,000; default 0), counting
   * this attempt. On the last attempt (`maxAttempts`) it dead-letters instead, with the reason
   * `nacked on attempt N of M`, and resolves `'dead-lettered'`.
   */
  nack(options?: { delayMs?: number }): Promise<Outcome>;
  /**
   * Moves the message to the subscription's DLQ with `reason` (non-empty, stored verbatim). Rejects
   * with `InvalidArgument` on a consumer with `deadLetter: false`.
   */
  deadLetter(reason: string): Promise<Outcome>;
  /**
   * Pushes the lease `ms` (0–600,000) into the future. Core already renews the lease of every
   * unsettled message, so this is rarely needed.
   */
  extendLease(ms: number): Promise<void>;
}

/**
 * A push handler. When it returns (or resolves) the message is acked; when it throws (or rejects)
 * the message is nacked with backoff, or dead-lettered on the last attempt; unless it settled the
 * message itself.
 */
export type Handler<T> = (message: Message<T>) => unknown;

/**
 * Backoff between attempts: exponential from `initialDelayMs`, capped at `maxDelayMs`, with jitter.
 * After attempt n failed, `step = min(maxDelayMs, initialDelayMs × 2^(n−1))` and the message comes
 * back after a random delay between `step / 2` and `step`.
 */
export interface RetryOptions {
  /** Step after the first failed attempt, 0–600,000 ms; 0 retries at once. @default 1000 */
  initialDelayMs?: number;
  /**
   * Cap of the step, 0–600,000 ms and not below `initialDelayMs`.
   * @default max(60000, initialDelayMs)
   */
  maxDelayMs?: number;
}

/** Options of `bus.consumer()`. */
export interface ConsumerOptions<T = unknown> {
  /**
   * Handlers in flight at most (and, for `messages()`, unsettled messages held at most); 1–1,000.
   * @default 10
   */
  concurrency?: number;
  /**
   * Deliveries a handler gets before the message is dead-lettered; 1–1,000. Fixed when the
   * subscription is created: asking another value later gets `AlreadyExists`. @default 5
   */
  maxAttempts?: number;
  /**
   * Backoff between attempts after a handler failed.
   * @default { initialDelayMs: 1000, maxDelayMs: 60000 }
   */
  retry?: RetryOptions;
  /**
   * `false`: no DLQ, failed messages are retried forever. Fixed when the subscription is created.
   * @default true
   */
  deadLetter?: boolean;
  /**
   * Lease length, 10,000–600,000 ms, renewed automatically while a message is unsettled.
   * @default 30000
   */
  ackDeadlineMs?: number;
  /**
   * Messages sharing an `orderingKey` reach the handler one at a time, in send order. `true`
   * without `bus.capabilities.ordering` is `Unsupported`, before any I/O. Fixed when the
   * subscription is created (as on Pub/Sub): a consumer asking otherwise than the subscription's
   * creator (another consumer or a declaration) gets `AlreadyExists`. @default bus.capabilities.ordering
   */
  ordering?: boolean;
  /** Any Standard Schema (zod, valibot, arktype…); a message failing it is dead-lettered at once. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * How long `stop()` (and `bus.close()`) waits for running handlers, and for messages held in pull
   * mode, before releasing their messages for redelivery (reported to `onError` as a `Timeout`).
   * @default 30000
   */
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
  /** The topic name as given, without the connection's prefix. */
  readonly topic: string;
  /** The subscription name as given, without the connection's prefix. */
  readonly subscription: string;
  /** Creates (or verifies) the topic, the subscription and its DLQ without consuming. */
  ready(): Promise<void>;
  /** Calls `ready()`, then runs `handler` for each message until `stop()`. */
  start(handler: Handler<T>): Promise<void>;
  /** Stops taking messages, finishes the ones in flight, releases the rest. */
  stop(): Promise<void>;
  /** Pull messages instead of pushing them to a handler; settle each yourself. */
  messages(): AsyncIterableIterator<Message<T>>;
  /** Counts for the subscription: `{ waiting, inFlight, deadLettered }`; `undefined` if unknown. */
  stats(): Promise<ConsumerStats>;
}

/** A message in a dead-letter queue. */
export interface DeadLetter<T = unknown> {
  /** The message id, the same as when it was sent and handled. */
  readonly id: string;
  /** Decoded body; the raw bytes when the message could not be decoded (which may be why it is here). */
  readonly body: T | Uint8Array;
  /** The attributes the message carried. */
  readonly attributes: Readonly<Attributes>;
  /** Deliveries a handler actually got before the message was dead-lettered. */
  readonly attempts: number;
  /**
   * Why it is here, as core wrote it (`handler failed on attempt N of M: …`, `nacked on attempt N
   * of M`, `lease expired on attempt K of M: …`, `body could not be decoded …`, `schema validation
   * failed: …`) or as given to `msg.deadLetter(reason)`.
   */
  readonly reason: string;
  /** When the message was moved to the DLQ. */
  readonly deadLetteredAt: Date;
  /** When the message was first sent. */
  readonly publishedAt: Date;
  /** The ordering key the message was sent with, if any. */
  readonly orderingKey: string | undefined;
  /** The broker's own record of the dead letter. */
  readonly native: unknown;
}

/** The dead-letter queue of one subscription. */
export interface DeadLetters<T = unknown> {
  /** How many dead letters the DLQ holds. */
  count(): Promise<number>;
  /**
   * Up to `limit` (default 10) dead letters, oldest first, left where they are. Where
   * `bus.capabilities.deadLetterAdmin.peek` is `count-bumping` (SQS, Pub/Sub) peeking is a receive
   * the broker counts; where it is `none`, `Unsupported`.
   */
  peek(limit?: number): Promise<DeadLetter<T>[]>;
  /**
   * Moves dead letters, oldest first, back to the subscription, same id, attempts reset; resolves
   * with how many. Moves at most those present when the call starts (and at most `limit`), so a
   * message dead-lettered again meanwhile waits for the next call. Where
   * `bus.capabilities.deadLetterAdmin.redrive` is `topic` (Pub/Sub), they reach every subscription
   * of the topic.
   */
  redrive(options?: { limit?: number }): Promise<number>;
  /** Deletes every dead letter; resolves with how many (undefined if the broker can't tell). */
  purge(): Promise<number | undefined>;
}

/** A connection to one broker. */
export interface Bus {
  /** Adapter name (`memory`, `redis`, …). */
  readonly adapter: string;
  /**
   * What the adapter can do (fan-out, ordering, delays, sizes, stats, lease range); calls needing
   * more throw `Unsupported`.
   */
  readonly capabilities: Capabilities;
  /** The underlying client: the escape hatch. */
  readonly native: unknown;
  /**
   * A producer for `topic` (3–64 characters, a letter first, then letters, digits, `-` or `_`). The
   * topic is created on the first send; `options.subscriptions` declares the subscriptions it feeds,
   * created (with their DLQs) before the first message is published.
   */
  producer<T = unknown>(topic: string, options?: ProducerOptions): Producer<T>;
  /**
   * Creates the topic and each declared subscription (with its DLQ), if they don't exist yet, so
   * messages sent from now on are kept for them even before any consumer runs. A declaration that
   * disagrees with an existing subscription's `maxAttempts` or `deadLetter` (declared, or created by
   * a consumer) rejects with `AlreadyExists` naming the setting.
   */
  declare(topic: string, subscriptions: SubscriptionDeclarations): Promise<void>;
  /**
   * A consumer of `subscription` on `topic` (names as for topics). Consumers sharing a subscription
   * compete for its messages; each subscription of a topic gets every message. Nothing touches the
   * broker until `ready()`, `start()` or `messages()`; options are checked at once.
   */
  consumer<T = unknown>(
    topic: string,
    subscription: string,
    options?: ConsumerOptions<T>,
  ): Consumer<T>;
  /** The dead-letter queue of `subscription` on `topic`: count, peek, redrive, purge. */
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
