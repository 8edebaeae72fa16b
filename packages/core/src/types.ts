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

/**
 * How a settled message ended: `acked`, `nacked` (back for another attempt, or `dead-lettered` on
 * the last), `dead-lettered`, or `released` (handed back by {@link Message.release} without using
 * an attempt).
 */
export type Outcome = 'acked' | 'nacked' | 'dead-lettered' | 'released';

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
   * Hands the message back for immediate redelivery **without counting this attempt**: its next
   * delivery (to this consumer or another) carries the same `attempt`, so it never dead-letters
   * for it. For a message this consumer can't handle now through no fault of the message (an
   * output gone, shutting down); a failure of the message is a `nack()`. Resolves `'released'`
   * once the broker took it back; like every settle, once: a later `ack`, `nack` or `deadLetter`
   * is a no-op returning `'released'`.
   *
   * Where the broker counts a redelivery anyway, the adapter compensates, and some of it shows:
   * - RabbitMQ, Redis, SQS standard queues: the message goes back as a copy at the tail of the
   *   subscription's queue (behind messages already waiting), the original acked once the copy is
   *   accepted.
   * - SQS FIFO queues: a visibility change to 0; SQS counts it, so the next `attempt` is one
   *   higher (attempts are `approximate` there).
   * - Pub/Sub: `modifyAckDeadline(0)`, which the service counts as a delivery attempt; the adapter
   *   takes it off in this process only (a redelivery to another process shows it), and the service
   *   counts it toward the subscription's backstop dead-letter policy (`maxAttempts + 10`), so a
   *   message released over and over can still be dead-lettered there.
   * Releasing the same message again and again never ends: it is not an attempt.
   */
  release(): Promise<Outcome>;
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

/** One of the numbers in {@link ConsumerStats}. */
export type StatName = 'waiting' | 'inFlight' | 'deadLettered';

/**
 * Counts for a subscription: `waiting` (ready for delivery, not counting delayed messages),
 * `inFlight` (delivered, not settled), `deadLettered` (in its DLQ). A number the broker can't tell is
 * `undefined`, never a guess; one the broker only estimates (SQS's approximate counts, per
 * `bus.capabilities.stats`) is given and named in `approximate`.
 */
export interface ConsumerStats extends DriverStats {
  /** The numbers above that are the broker's estimates rather than exact counts; empty when all given are exact. */
  readonly approximate: readonly StatName[];
}

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
  /**
   * Times the message was redriven out of this DLQ before it landed here this time (0 the first
   * time). Carried on the wire as `omnibus-redrives`; read by the redrive-loop guard
   * ({@link RedriveOptions.maxRedrives}).
   */
  readonly redrives: number;
  /** The broker's own record of the dead letter. */
  readonly native: unknown;
}

/**
 * Which dead letters a {@link DeadLetterSelection} acts on. Every criterion given must hold (AND);
 * none given selects every letter. Checked when `select()` is called: a malformed filter throws
 * `InvalidArgument` before any I/O.
 */
export interface DeadLetterFilter {
  /** Exact message ids (non-empty strings); an empty list selects nothing. */
  ids?: readonly string[];
  /**
   * The failure reason: a string matches as a case-insensitive substring (non-empty), a `RegExp`
   * by `test()` (its `g`/`y` flags are ignored, so matching is stateless).
   */
  reason?: string | RegExp;
  /** Dead-lettered strictly before this time (`deadLetteredAt < failedBefore`). */
  failedBefore?: Date;
  /**
   * Dead-lettered at or after this time (`deadLetteredAt >= failedAfter`), so
   * `[failedAfter, failedBefore)` windows tile without gaps or overlaps. Must not be after
   * `failedBefore`.
   */
  failedAfter?: Date;
  /** Your own test, called with each letter the other criteria kept (body decoded as for `peek`). */
  where?: (letter: DeadLetter<unknown>) => boolean;
  /**
   * Most letters matched, and so listed or acted on (refused ones included), in the DLQ's order: a whole
   * number ≥ 1. @default every matching letter
   */
  limit?: number;
}

/**
 * What happened to one matched dead letter:
 * - `redriven` / `purged`: done;
 * - `would-redrive` / `would-purge`: what a `dryRun` would have done;
 * - `refused`: the redrive-loop guard kept it in the DLQ (see `detail`);
 * - `failed`: the broker refused this letter (after core's retries of retryable errors); it stays
 *   in the DLQ and `error` says why;
 * - `not-found`: an id asked for in {@link DeadLetterFilter.ids} that the run did not find in the
 *   DLQ. It has no letter, so it is not a {@link DeadLetterResult}: it is listed in
 *   {@link DeadLetterReport.notFound}, never in `results` nor passed to `onResult`.
 */
export type DeadLetterOutcome =
  | 'redriven'
  | 'purged'
  | 'would-redrive'
  | 'would-purge'
  | 'refused'
  | 'failed'
  | 'not-found';

/** The outcome for one matched dead letter, as reported to `onResult` and in the report. */
export interface DeadLetterResult {
  /** The message id. */
  id: string;
  /** What happened to it (see {@link DeadLetterOutcome}); never `not-found` (see {@link DeadLetterNotFound}). */
  outcome: DeadLetterOutcome;
  /** Why the message was dead-lettered (the letter's `reason`). */
  reason: string;
  /** Deliveries a handler got before it was dead-lettered. */
  attempts: number;
  /** Times it had been redriven before this run (the letter's `redrives`). */
  redrives: number;
  /** When it was dead-lettered. */
  deadLetteredAt: Date;
  /** Its ordering key (kept on redrive), if any. */
  orderingKey: string | undefined;
  /** Why it was refused, or the error message when it failed. */
  detail?: string;
  /** The error, when the outcome is `failed`. */
  error?: OmnibusError;
}

/**
 * An id asked for in {@link DeadLetterFilter.ids} that a run read the DLQ through without finding:
 * never dead-lettered, already redriven or purged, or not in this subscription's DLQ.
 */
export interface DeadLetterNotFound {
  /** The id as asked for. */
  id: string;
  /** Always `not-found` (see {@link DeadLetterOutcome}). */
  outcome: 'not-found';
}

/** The summary of one `redrive` or `purge` run over a {@link DeadLetterSelection}. */
export interface DeadLetterReport {
  /** One entry per matched letter, in the order they were read (the DLQ's order). */
  results: DeadLetterResult[];
  /**
   * Outcome `not-found`: each id of {@link DeadLetterFilter.ids} that no letter read had, in the
   * order the ids were given; `[]` without `ids`. Only a run that read the DLQ through (up to the
   * letters dead-lettered after it started) says an id is not there: a run stopped by `limit` or by
   * its `signal` first reports none (an id it did not reach may still be there). An id whose letter
   * is in the DLQ but fails another criterion (`reason`, `failedBefore`, …) is neither matched nor
   * not found. Where the DLQ can only be sampled (SQS: a read ends after one empty receive), "read
   * through" is as far as the broker handed letters out.
   */
  notFound: DeadLetterNotFound[];
  /** Letters read from the DLQ (matched or not). */
  scanned: number;
  /** Letters that matched the filter (at most its `limit`): `results.length`. */
  matched: number;
  /** Outcome `redriven` (0 on a dry run). */
  redriven: number;
  /** Outcome `purged` (0 on a dry run). */
  purged: number;
  /** Outcome `refused`: kept by the redrive-loop guard (counted on dry runs too). */
  refused: number;
  /** Outcome `failed`. */
  failed: number;
  /** Whether this was a dry run: nothing was changed. */
  dryRun: boolean;
}

/** Options of {@link DeadLetterSelection.redrive} and {@link DeadLetterSelection.purge}. */
export interface DeadLetterActionOptions {
  /**
   * Decide and report (`would-redrive`, `would-purge`, `refused`) but change nothing: every letter
   * stays in the DLQ as it was. @default false
   */
  dryRun?: boolean;
  /**
   * Most letters acted on per second (a positive number, fractions allowed), so a large redrive
   * doesn't flood the consumers. Not applied to dry runs. @default unpaced
   */
  ratePerSecond?: number;
  /** Called once per matched letter as soon as its outcome is known, in read order: progress. */
  onResult?: (result: DeadLetterResult) => void;
  /**
   * Stops the run between pages and before each paced action; the promise then resolves with the
   * report so far (letters not reached stay in the DLQ, unreported). Check `signal.aborted`.
   */
  signal?: AbortSignal;
}

/** Options of {@link DeadLetterSelection.redrive}. */
export interface RedriveOptions extends DeadLetterActionOptions {
  /**
   * The redrive-loop guard: a letter already redriven this many times (`letter.redrives >=
   * maxRedrives`) is `refused`, and stays in the DLQ, with a `detail` saying why. A whole number
   * ≥ 1. @default 3
   */
  maxRedrives?: number;
}

/**
 * The dead letters of one DLQ that match a {@link DeadLetterFilter}, acted on letter by letter.
 * A run reads the DLQ once, in the DLQ's order (oldest first on Redis, RabbitMQ and memory; SQS
 * standard queues and Pub/Sub hand letters out in an order of their own), in pages, and acts only
 * on the letters present when it
 * started: it stops at a letter dead-lettered after it started, or at one it redrove itself coming
 * back (a consumer failing it again at once), so it ends even while consumers keep dead-lettering.
 * A letter the broker refuses becomes a `failed` result and the run carries on. A run rejects only for bad options (`InvalidArgument`, before any I/O), a closed bus
 * (`Closed`), or when the DLQ can't be read (`NotFound` for a subscription that doesn't exist, or
 * the broker's error after core's retries within `operationTimeoutMs`); what it had done by then
 * was already reported to `onResult`.
 *
 * Reading is a browse where `bus.capabilities.deadLetterAdmin.peek` is `non-destructive`; where it
 * is `count-bumping` (SQS, Pub/Sub) it is a receive the broker counts, and the letters read stay
 * hidden from other readers until the run settles or releases them; where it is `none`, every
 * call rejects `Unsupported`.
 */
export interface DeadLetterSelection<T = unknown> {
  /** The matching letters (at most `limit`), in the DLQ's order, left in the DLQ. */
  list(): Promise<DeadLetter<T>[]>;
  /**
   * Moves the matching letters back to the subscription (to the topic where
   * `deadLetterAdmin.redrive` is `topic`), each with its id, body, attributes, ordering key and
   * publish time, attempts starting again at 1 and `redrives` one higher; refuses those the loop
   * guard stops. At least once: a letter's copy is accepted before it leaves the DLQ.
   */
  redrive(options?: RedriveOptions): Promise<DeadLetterReport>;
  /** Deletes the matching letters from the DLQ for good. */
  purge(options?: DeadLetterActionOptions): Promise<DeadLetterReport>;
}

/** The dead-letter queue of one subscription. */
export interface DeadLetters<T = unknown> {
  /** How many dead letters the DLQ holds. */
  count(): Promise<number>;
  /**
   * Up to `limit` (default 10) dead letters, in the DLQ's order, left where they are. Where
   * `bus.capabilities.deadLetterAdmin.peek` is `count-bumping` (SQS, Pub/Sub) peeking is a receive
   * the broker counts; where it is `none`, `Unsupported`.
   */
  peek(limit?: number): Promise<DeadLetter<T>[]>;
  /**
   * Moves dead letters, in the DLQ's order, back to the subscription, same id, attempts reset; resolves
   * with how many. Moves at most those present when the call starts (and at most `limit`), so a
   * message dead-lettered again meanwhile waits for the next call. Where
   * `bus.capabilities.deadLetterAdmin.redrive` is `topic` (Pub/Sub), they reach every subscription
   * of the topic.
   */
  redrive(options?: { limit?: number }): Promise<number>;
  /** Deletes every dead letter; resolves with how many (undefined if the broker can't tell). */
  purge(): Promise<number | undefined>;
  /**
   * The letters matching `filter` (all of them without one), to list, redrive or purge letter by
   * letter with per-letter results, a dry run, a rate and the redrive-loop guard. Example:
   * `await dlq.select({ reason: /timeout/i, failedAfter: since }).redrive({ ratePerSecond: 50 })`.
   * @throws `InvalidArgument` for a malformed filter, before any I/O
   */
  select(filter?: DeadLetterFilter): DeadLetterSelection<T>;
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
  /** The dead-letter queue of `subscription` on `topic`: count, peek, redrive, purge, select. */
  deadLetters<T = unknown>(topic: string, subscription: string): DeadLetters<T>;
  /**
   * Deletes `subscription` of `topic` and its DLQ, with every message in them (for temporary
   * subscriptions and test leftovers). Resolves `true` if it existed, `false` if there was nothing
   * to delete. A consumer or producer of this bus used afterwards creates it again, empty;
   * consumers still running on it may fail with `NotFound`. Names are checked before any I/O
   * (`InvalidArgument`); bounded by `operationTimeoutMs` like every call.
   */
  deleteSubscription(topic: string, subscription: string): Promise<boolean>;
  /**
   * Deletes `topic`; resolves `true` if it existed, `false` otherwise. Its subscriptions are not
   * deleted: delete them first. Where a subscription lives inside the topic (Redis streams; memory
   * keeps the same rule) it rejects `InvalidArgument` naming them while any exists; elsewhere they
   * stop receiving and keep what they hold. A producer of this bus used afterwards creates the topic
   * again. Bounded by `operationTimeoutMs`.
   */
  deleteTopic(topic: string): Promise<boolean>;
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
