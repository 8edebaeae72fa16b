/**
 * The adapter contract, version 2.
 *
 * An adapter (`@omnibus/redis`, `@omnibus/rabbitmq`, …) implements {@link DriverV2}; everything a
 * user touches is built by `@omnibus/core` on top of it. The split follows one rule: **drivers
 * translate, core decides**. Retry and backoff, ack-once, lease extension, the concurrency limit,
 * per-key serialisation, emulated dead-lettering, decode and schema failures, validation and
 * two-phase shutdown live once, in core. A driver only maps these batch-shaped calls onto its broker.
 *
 * Rules that hold for every method below:
 * - **Retries belong to core.** Core calls a driver method again (with backoff, within
 *   {@link DriverV2.operationTimeoutMs}) when it failed with a retryable error, and counts one
 *   driver call as one try. A driver says through {@link DriverV2.classifyError} (or by throwing an
 *   `OmnibusError`) whether an error is retryable. A driver **must not** loop on its own; it **may**
 *   leave a client library's built-in retries on (the AWS SDK, the Pub/Sub client) only if one
 *   driver call still ends within `operationTimeoutMs`, and **should** turn them off where core's
 *   are enough (ioredis' offline queue and resends are off; amqplib has none).
 * - **Batches are bounded by the driver's declared limits** ({@link Capabilities.batch}): core
 *   never passes more entries (or bytes) to one call, and retries only the entries a
 *   {@link BatchResult} reports as failed.
 * - A driver **must not validate** names, attributes or sizes: core has checked them against the
 *   portable rule set (and the driver's declared {@link Capabilities}) before any call.
 * - Names reaching a driver are final: core has already applied the connection's `prefix`.
 * - Every method may be called concurrently with every other, except after `close()`.
 * - Secrets (passwords, tokens) must never appear in an error message a driver throws.
 *
 * Keywords: **must** is required for the conformance suite to pass; **should** is expected unless
 * the broker makes it impossible (say why in the adapter README); **may** is an optimisation.
 *
 * @packageDocumentation
 */

/** Marks the contract version a driver implements; core refuses drivers of another version. */
export type SpecificationVersion = 'v2';

/** Whether a broker can tell one of the {@link DriverStats} numbers: exactly (`true`), as an estimate, or not (`false`). */
export type StatSupport = boolean | 'approximate';

/** How an adapter provides a feature: by the broker itself, by the adapter's own code, or not at all. */
export type Support = 'native' | 'emulated' | 'none';

/** The most one batch call takes: entries, and (where the broker caps the request) bytes. */
export interface BatchLimit {
  /** Entries per call (SQS: 10 for send, delete and visibility changes). */
  readonly maxMessages: number;
  /** Bytes of bodies plus attributes per call, where the broker caps the request (SQS 256 KiB or 1 MiB, Pub/Sub 10 MB). */
  readonly maxBytes?: number | undefined;
}

/**
 * What a driver can do, declared once as data. Core and the conformance suite read it: core rejects
 * a call that needs an undeclared capability with an `Unsupported` error, and the suite skips a test
 * only where a capability here says so (naming it), and checks that every declared one works.
 */
export interface Capabilities {
  /** Several subscriptions on one topic each receive every message (pub/sub). False: one subscription per topic (e.g. SQS queue mode). */
  readonly fanout: boolean;
  /** Messages sharing an `orderingKey` can be handed out in send order, one at a time per subscription, for consumers that ask for it (`ordering`, on by default where declared). */
  readonly ordering: boolean;
  /**
   * Longest `delayMs` a send may ask for, in ms; `false` if the broker can't delay a publish
   * (Pub/Sub; SQS FIFO). memory 15 min; Redis 30 days; RabbitMQ through TTL queues; SQS
   * `DelaySeconds` ≤ 900. Core caps it at the portable 15 minutes.
   */
  readonly delayedDelivery: number | false;
  /**
   * Longest delay a nack may ask for, in ms (SQS visibility ≤ 12 h; Pub/Sub `modifyAckDeadline`
   * ≤ 600 s; memory, Redis and RabbitMQ as long as their publish delays). Core caps it at the
   * portable 600 s.
   */
  readonly nackDelayMaxMs: number;
  /**
   * The broker's own delivery limit, used as a backstop set above `maxAttempts` so core always
   * dead-letters first with the true reason, and the attempt counts it accepts (Pub/Sub 5–100,
   * SQS `maxReceiveCount` 1–1000, RabbitMQ `x-delivery-limit`); `false` where the adapter has none
   * (memory, Redis: core is the only one that dead-letters).
   */
  readonly nativeDeadLetter:
    | false
    | {
        /** Fewest attempts the broker's limit accepts. */
        readonly minAttempts: number;
        /** Most attempts the broker's limit accepts. */
        readonly maxAttempts: number;
      };
  /** Largest message the broker takes: body plus attribute names and values, in bytes. Never below the portable 256 KiB. */
  readonly maxMessageBytes: number;
  /** Most messages one {@link DriverV2.publish} call takes; the same as `batch.publish.maxMessages` (kept for users). */
  readonly maxBatchSize: number;
  /** Batch limits per operation: `publish`, and `settle` for ack, nack, release, extendLease and deadLetter. */
  readonly batch: {
    /** One {@link DriverV2.publish} call. */
    readonly publish: BatchLimit;
    /** One ack, nack, release, extendLease or deadLetter call. */
    readonly settle: BatchLimit;
  };
  /**
   * How {@link ReceivedMessage.attempt} is known: `exact` (memory; Redis' pending-entries count;
   * RabbitMQ's `x-delivery-count` plus its own header), `approximate` (SQS
   * `ApproximateReceiveCount`, which can run ahead under concurrent receives), `emulated` (the
   * adapter counts in a message attribute, as Pub/Sub must without a dead-letter policy). The suite
   * holds `exact` to exact counts and the others to "never below the deliveries a handler got".
   */
  readonly attempts: 'exact' | 'approximate' | 'emulated';
  /** An ack resolves only after the broker confirmed it (false: Pub/Sub without exactly-once delivery, whose acks are best effort). */
  readonly ackConfirmed: boolean;
  /**
   * Which numbers {@link DriverV2.stats} can tell: `true` exactly, `'approximate'` as the broker's
   * own estimate (SQS `ApproximateNumberOfMessages…`, eventually consistent: up to about a minute
   * behind), `false` not at all. Core passes approximate numbers on marked as such
   * (`ConsumerStats.approximate`), never as exact.
   */
  readonly stats: {
    /** How {@link DriverStats.waiting} is known. */
    readonly waiting: StatSupport;
    /** How {@link DriverStats.inFlight} is known. */
    readonly inFlight: StatSupport;
    /** How {@link DriverStats.deadLettered} is known. */
    readonly deadLettered: StatSupport;
  };
  /** What the DLQ admin calls can do on this broker. */
  readonly deadLetterAdmin: {
    /** `non-destructive` (memory, Redis, RabbitMQ's requeue-less browse); `count-bumping` (SQS and Pub/Sub: peeking is a receive and counts); `none`. */
    readonly peek: 'non-destructive' | 'count-bumping' | 'none';
    /** `exact`, or `approximate` (SQS `ApproximateNumberOfMessages`). */
    readonly count: 'exact' | 'approximate';
    /** A redrive reaches only the subscription (`subscription`), or every subscription of the topic (`topic`, a plain re-publish on Pub/Sub). */
    readonly redrive: 'subscription' | 'topic';
  };
  /** Shortest and longest lease (`ackDeadlineMs`) the broker honours, in ms. Core enforces the portable 10–600 s within it. */
  readonly ackDeadline: {
    /** Shortest lease, in ms. */
    readonly minMs: number;
    /** Longest lease, in ms. */
    readonly maxMs: number;
  };
  /** How lease extension is done: `native` (broker call), `emulated` (adapter timers), `none` (lease is held until the connection closes, as with RabbitMQ). */
  readonly leaseExtension: Support;
  /**
   * Longest name the broker allows for what the adapter derives from topic and subscription names
   * (SQS queue 80 characters, less `.fifo` and the adapter's suffixes; RabbitMQ 255 bytes; Pub/Sub
   * 255). Adapters derive every broker name through core's `brokerName()` with it.
   */
  readonly maxNameLength: number;
}

/** A message on its way to the broker. Body and attributes are final: encoded, validated. */
export interface OutgoingMessage {
  /** Stable id (UUIDv7 unless the caller chose one). Drivers must carry it so the consumer sees the same id. */
  readonly id: string;
  /** The codec's bytes alone: no envelope. */
  readonly body: Uint8Array;
  /** User attributes, string to string; never keys core reserves (see `RESERVED_ATTRIBUTE_PREFIXES`). */
  readonly attributes: Readonly<Record<string, string>>;
  /** MIME type of the body (`application/json`, `application/octet-stream`); drivers should carry it in the broker's content-type slot where one exists. */
  readonly contentType: string;
  /** Epoch milliseconds at which `send` was called. */
  readonly publishedAt: number;
  /** Messages sharing it are delivered in send order where the consumer asked for ordering (≤ 128 printable ASCII characters). */
  readonly orderingKey?: string | undefined;
  /** Not deliverable before `publishedAt + delayMs`. Only set when {@link Capabilities.delayedDelivery} allows it. */
  readonly delayMs?: number | undefined;
  /** W3C trace context, when OpenTelemetry is active. */
  readonly traceparent?: string | undefined;
}

/**
 * A message handed out by {@link DriverSubscription.receive}. Core wraps it into the user's
 * `Message`; the driver keeps whatever it needs to settle it in `handle`.
 */
export interface ReceivedMessage {
  /** The id given at publish; for a message a plain client sent, the broker's own stable id. */
  readonly id: string;
  /** The body's bytes, as published (the codec decodes them in core). */
  readonly body: Uint8Array;
  /** User attributes, string to string (the broker's own and Omnibus's metadata left out). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Absent when a plain client sent the message without one; core then uses the consumer's codec. */
  readonly contentType?: string | undefined;
  /** Epoch ms of the original publish (not of the redelivery). */
  readonly publishedAt: number;
  /** The ordering key given at publish, where the broker keeps one. */
  readonly orderingKey?: string | undefined;
  /** W3C trace context carried from the publish, when there was one. */
  readonly traceparent?: string | undefined;
  /**
   * Delivery count, 1 on first delivery, counting every delivery since the message was published or
   * redriven: after handler failure, nack (with or without delay), lease expiry or a crashed consumer
   * — but not a {@link DriverSubscription.release}. Exact, approximate or emulated as
   * {@link Capabilities.attempts} declares; drivers whose broker restarts the count on re-enqueue
   * (RabbitMQ through a delay queue) carry their own count in a header. A value a broker or a plain
   * client made nonsensical (0, negative, not a number) is delivered as 1.
   */
  readonly attempt: number;
  /**
   * Times this message was redriven from its DLQ before this delivery (the {@link index!WIRE} `redrives`
   * field, 0 when absent). Drivers must carry it into the DLQ when the message is dead-lettered
   * again, so the redrive-loop guard of `DeadLetterSelection.redrive` can see it.
   */
  readonly redrives?: number | undefined;
  /** Opaque settle token for ack/nack/extendLease/deadLetter (receipt handle, stream id, delivery tag, ack id). */
  readonly handle: unknown;
  /** The broker's own message object, exposed as `msg.native`. */
  readonly native: unknown;
}

/** A topic as core asks a driver to create it. */
export interface TopicSpec {
  /** Final topic name (prefix applied). */
  readonly topic: string;
}

/** Names one subscription: what the DLQ admin calls and `stats` need, nothing more. */
export interface SubscriptionRef {
  /** Final topic name (prefix applied). */
  readonly topic: string;
  /**
   * Final subscription name (prefix applied); unique per topic, not necessarily across topics:
   * where the broker's names are global (SQS queues, Pub/Sub subscriptions, RabbitMQ queues),
   * derive them from both with core's `brokerName()`.
   */
  readonly subscription: string;
}

/** What core knows about a subscription when it asks a driver to create it or consume from it. */
export interface SubscriptionSpec extends SubscriptionRef {
  /** Attempts before the message is dead-lettered; `Infinity` when dead-lettering is off. */
  readonly maxAttempts: number;
  /** Whether a DLQ exists for this subscription. */
  readonly deadLetter: boolean;
  /** Lease length the consumer asks for, already clamped to {@link Capabilities.ackDeadline}. */
  readonly ackDeadlineMs: number;
  /** The consumer asked for per-key ordering (never true without {@link Capabilities.ordering}). Pub/Sub fixes it when the subscription is created. */
  readonly ordering: boolean;
}

/** Options for one consuming session opened with {@link DriverV2.subscribe}. */
export interface SubscribeOptions {
  /** Most unsettled messages core will hold: push-based drivers must bound their prefetch by it. */
  readonly maxOutstanding: number;
}

/** A request to {@link DriverSubscription.receive}. */
export interface ReceiveRequest {
  /** Hand out at most this many messages (≥ 1, ≤ the `maxOutstanding` given to subscribe). */
  readonly maxMessages: number;
  /** Aborted when core stops consuming: the driver must return (or throw an `AbortError`) promptly and must not hand out messages after it. */
  readonly signal: AbortSignal;
}

/** A message whose attempt ended without success, to deliver again. */
export interface NackRequest {
  /** {@link ReceivedMessage.handle} of the delivery. */
  readonly handle: unknown;
  /** Redeliver no sooner than this, in ms; 0 means as soon as possible. Never above {@link Capabilities.nackDelayMaxMs} (core checks). */
  readonly delayMs: number;
  /** The attempt that just ended, for drivers that re-publish and must carry the count themselves. */
  readonly attempt: number;
  /** The received message, for drivers that re-publish (delay queues, scheduled sets). */
  readonly message: ReceivedMessage;
}

/** A delivery no handler saw, handed back for immediate redelivery without using an attempt. */
export interface ReleaseRequest {
  /** {@link ReceivedMessage.handle} of the delivery. */
  readonly handle: unknown;
  /** The delivery's attempt; the next delivery must carry the same. */
  readonly attempt: number;
  /** The received message, for drivers that re-publish to keep the count. */
  readonly message: ReceivedMessage;
}

/**
 * The outcome of a batch call, entry by entry. A driver resolves with nothing when every entry
 * succeeded, or with the entries that certainly did not (SQS `SendMessageBatch`/`DeleteMessageBatch`
 * `Failed`, SNS `PublishBatch` `Failed`): core calls again with those alone, when their error is
 * retryable. Throwing instead means the fate of the whole batch is unknown: core calls again with
 * all of it (at least once: an entry that had landed may land twice).
 */
export interface BatchResult {
  /** Index into the request array, and the native error (classified by `classifyError`). */
  readonly failed: readonly {
    /** Index of the entry in the request array. */
    readonly index: number;
    /** Why it failed: an `OmnibusError`, or a native error `classifyError` maps. */
    readonly error: unknown;
  }[];
}

/** A message to move into the subscription's DLQ. */
export interface DeadLetterRequest {
  /** {@link ReceivedMessage.handle} of the delivery. */
  readonly handle: unknown;
  /** The received message, whose id, body, attributes and metadata the DLQ copy keeps. */
  readonly message: ReceivedMessage;
  /** Human-readable reason, stored verbatim with the dead letter (core writes it; see `dead-letter-policy`). */
  readonly reason: string;
  /**
   * Attempts to record with the dead letter: deliveries a handler actually got. Drivers store this,
   * not `message.attempt` (a delivery that arrives after its lease expired on the last attempt was
   * never handled, so it is not counted).
   */
  readonly attempts: number;
}

/** A lease to extend. */
export interface LeaseRequest {
  /** {@link ReceivedMessage.handle} of the delivery. */
  readonly handle: unknown;
  /** New lease length from now, in ms. */
  readonly leaseMs: number;
}

/** What a driver stores with a dead letter, as read back by `peek`. */
export interface StoredDeadLetter {
  /** The message id given at publish (kept through dead-lettering and redrive). */
  readonly id: string;
  /** The body's bytes, as published. */
  readonly body: Uint8Array;
  /** User attributes, string to string. */
  readonly attributes: Readonly<Record<string, string>>;
  /** MIME type of the body, when the message carried one. */
  readonly contentType?: string | undefined;
  /** Epoch ms of the original publish. */
  readonly publishedAt: number;
  /** The ordering key given at publish, kept so a redrive preserves it. */
  readonly orderingKey?: string | undefined;
  /** Deliveries the message had when it was dead-lettered. */
  readonly attempts: number;
  /** Why it was dead-lettered, stored verbatim ({@link DeadLetterRequest.reason}, or the broker's own reason). */
  readonly reason: string;
  /** Epoch ms. */
  readonly deadLetteredAt: number;
  /** Times the message was redriven before it landed here this time (the {@link index!WIRE} `redrives` field; 0 when absent). */
  readonly redrives?: number | undefined;
  /** The broker's own message object. */
  readonly native: unknown;
}

/** A dead letter handed out by a {@link DeadLetterCursor}, held until the cursor settles it or closes. */
export interface HeldDeadLetter extends StoredDeadLetter {
  /** Opaque token for {@link DeadLetterCursor.redrive} / {@link DeadLetterCursor.discard}. */
  readonly handle: unknown;
}

/** Options for {@link DriverV2.openDeadLetters}. */
export interface OpenDeadLettersOptions {
  /**
   * How long a letter handed out by `next` stays hidden from other readers of the DLQ, in ms, where
   * reading is a receive (SQS visibility timeout, Pub/Sub ack deadline). Core settles each page well
   * within it. Ignored where reading is a browse (memory, Redis, RabbitMQ).
   */
  readonly leaseMs: number;
}

/**
 * One pass over a subscription's DLQ, in the DLQ's order, for selective admin work: core reads pages,
 * decides per letter (ids, reason, failure time, the redrive-loop guard) and settles each one.
 * - memory / Redis: a browse by position (`XRANGE` from the last id seen); redrive and discard act
 *   on the letter's id, atomically per letter.
 * - RabbitMQ: `basic.get` without auto-ack on a channel of its own: held letters stay unacked
 *   until redriven (publish to the subscription, confirmed, then ack), discarded (ack) or the
 *   cursor closes (the channel closes and the broker requeues them).
 * - SQS: `ReceiveMessage` on the DLQ queue with `VisibilityTimeout = leaseMs` (count-bumping);
 *   redrive sends to the subscription's queue (keeping attributes, group id, a fresh dedup id) then
 *   deletes; discard deletes; close makes the unsettled ones visible again.
 * - Pub/Sub: pull on the DLQ subscription; redrive re-publishes (per `deadLetterAdmin.redrive`) then
 *   acks; discard acks; close sets the ack deadline of the rest to 0.
 */
export interface DeadLetterCursor {
  /**
   * Up to `maxMessages` (≤ `capabilities.batch.settle.maxMessages`) more dead letters, never one this
   * cursor already handed out; `[]` once none is left (where the broker can only sample, as SQS
   * short polls do, after one empty long-ish poll: say so in the README).
   */
  next(maxMessages: number): Promise<HeldDeadLetter[]>;
  /**
   * Moves these letters back to the subscription (or, where `deadLetterAdmin.redrive` is `topic`,
   * to the topic): same id, body, attributes, content type, publish time and ordering key, attempts
   * starting again at 1, and the {@link index!WIRE} `redrives` field set to `letter.redrives + 1`. At
   * least once: the copy is accepted by the broker before the letter leaves the DLQ.
   */
  redrive(letters: readonly HeldDeadLetter[]): Promise<BatchResult | undefined>;
  /** Deletes these letters from the DLQ for good. */
  discard(letters: readonly HeldDeadLetter[]): Promise<BatchResult | undefined>;
  /** Ends the pass: letters handed out and not settled stay in the DLQ, unchanged (SQS/Pub/Sub: visible again). Idempotent. */
  close(): Promise<void>;
}

/** Numbers the broker can tell (exactly or approximately, as {@link Capabilities.stats} declares); `undefined` where it can't (never a guess). */
export interface DriverStats {
  /** Ready to be delivered now (or the broker's lag), not counting delayed ones. */
  readonly waiting?: number | undefined;
  /** Delivered and not yet settled. */
  readonly inFlight?: number | undefined;
  /** Stored in the DLQ. */
  readonly deadLettered?: number | undefined;
}

/**
 * One consuming session on one subscription, opened by {@link DriverV2.subscribe}. Several may be
 * open on the same subscription at once, in one process or many: they compete for messages.
 */
export interface DriverSubscription {
  /**
   * Resolves with 1…`maxMessages` messages as soon as at least one is available, waiting as long as
   * it takes otherwise (drivers may return an empty array after a long poll; core simply calls again).
   * Every message handed out is leased for the subscription's `ackDeadlineMs`.
   * - memory: takes from the in-process queue, waits on a waiter list.
   * - Redis: `XREADGROUP GROUP g c COUNT n BLOCK t STREAMS s >`, plus `XAUTOCLAIM` of entries idle
   *   past the ack deadline (another consumer crashed); attempt from the pending-entries list.
   * - RabbitMQ (push): `basic.consume` with `basic.qos(maxOutstanding)` fills a local buffer that
   *   receive drains; attempt from `x-delivery-count` (+ the adapter's own header after a delay queue).
   * - SQS: a long poll of `ReceiveMessage` (≤ 10, wait ≤ 20 s, `VisibilityTimeout` = ack
   *   deadline), then short polls one after another while each comes back full, up to
   *   `maxMessages`; attempt from `ApproximateReceiveCount`.
   * - Pub/Sub: unary `pull` (not streaming pull, whose lease manager would fight core's), pulled
   *   ahead into a buffer of up to 5 × `maxOutstanding` (≤ 1,000) whose leases the driver renews
   *   until core takes them; attempt from `deliveryAttempt` where a dead-letter policy exists,
   *   else the driver's own count.
   */
  receive(request: ReceiveRequest): Promise<ReceivedMessage[]>;
  /**
   * Acknowledges: the messages are gone for this subscription. Must resolve only once the broker
   * accepted the acks. An ack of a message whose lease already expired may be ignored by the broker.
   * Where the broker can't confirm acks ({@link Capabilities.ackConfirmed} false), resolves once
   * they were sent. Redis `XACK`; RabbitMQ `basic.ack`; SQS `DeleteMessageBatch` (its `Failed`
   * entries reported in the {@link BatchResult}); Pub/Sub `acknowledge`.
   */
  ack(handles: readonly unknown[]): Promise<BatchResult | undefined>;
  /**
   * Releases messages for redelivery after `delayMs`, counting the ended attempt.
   * - memory: re-queues (delayed by a timer).
   * - Redis: one script copies the entry, with its attempt count, into this subscription's own
   *   retry stream (delay 0) or retry sorted set (delay > 0) and `XACK`s the original, so other
   *   groups never see it again and a crash neither loses nor doubles it.
   * - RabbitMQ: delay 0 → `basic.nack(requeue)`; delay > 0 → publish to a TTL queue that
   *   dead-letters back, with the attempt in a header, then ack.
   * - SQS: `ChangeMessageVisibility(delay)`, at least 1 s so a retry loop can't spin.
   *   Pub/Sub: `modifyAckDeadline(delay)` (0 = nack), ≤ 600 s.
   */
  nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined>;
  /**
   * Hands back deliveries for immediate redelivery: ones no handler saw (`stop()` releasing
   * unstarted messages, messages queued behind a nacked one of their ordering key, a batch
   * `receive` resolved after its abort) and a handler's `message.release()`, while the subscription
   * may still be receiving (a `receive` already waiting must still be woken by what comes next).
   * A release **must not** count as an attempt: the next delivery of the
   * message carries the same `attempt`. Where the broker counts it anyway, the driver compensates,
   * and its README says how:
   * - memory: re-queues without counting.
   * - Redis: the retry-stream copy carries the released attempt minus one (the next read adds one).
   * - RabbitMQ: `x-delivery-count` rises on a requeue, so the adapter re-publishes with its own
   *   attempt header (then acks), or records the offset; see its README.
   * - SQS: `ChangeMessageVisibility(0)`; `ApproximateReceiveCount` rises, so the adapter keeps the
   *   offset in a message attribute on its re-send, or declares `attempts: 'approximate'`.
   * - Pub/Sub: `modifyAckDeadline(0)` counts as a delivery attempt; compensated like SQS.
   */
  release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined>;
  /**
   * Pushes the lease of in-flight messages `leaseMs` into the future. Core calls it periodically
   * while a handler runs. Redis `XCLAIM … JUSTID` to the same consumer (resets idle time without
   * counting a delivery); SQS `ChangeMessageVisibility`; Pub/Sub `modifyAckDeadline`; RabbitMQ has
   * nothing to do (leaseExtension `none`: a delivery is held until ack or channel close).
   */
  extendLease(requests: readonly LeaseRequest[]): Promise<BatchResult | undefined>;
  /**
   * Moves messages to the subscription's DLQ with `reason` and their attempt count, and removes them
   * from the subscription, atomically where the broker allows (Redis: `XADD` + `XACK` in one
   * script; elsewhere publish to the DLQ, await its confirmation, then ack). Must keep id, body,
   * attributes, content type, publish time and ordering key.
   */
  deadLetter(requests: readonly DeadLetterRequest[]): Promise<BatchResult | undefined>;
  /**
   * Stops handing out messages and releases any the driver buffered but never returned from
   * `receive` (push-based drivers). Messages already returned stay leased until core settles them
   * or their lease expires. Must be idempotent.
   */
  close(): Promise<void>;
}

/**
 * The driver: one connection to one broker. Built by an adapter's factory (`redis(options)`), or
 * from a URL by the adapter module's `fromUrl`, and handed to `connect()`.
 */
export interface DriverV2 {
  /** The contract version implemented: `'v2'`. */
  readonly specificationVersion: SpecificationVersion;
  /** Adapter name, lower case (`memory`, `redis`, `rabbitmq`, `sqs`, `gcp-pubsub`); shown in errors. */
  readonly name: string;
  /** What the driver can do, as data core and the conformance suite read. */
  readonly capabilities: Capabilities;
  /** The underlying client, exposed as `bus.native`. */
  readonly native: unknown;
  /**
   * The longest one user call (send, ready, stats, a DLQ call, a settle) may take, core's retries
   * included, when the broker can't be reached, in ms. Set by the adapter option and URL parameter
   * `operationTimeoutMs` (every adapter uses that name). Core stops retrying once it has passed
   * since the call began; every single driver call against an unreachable broker must fail on its
   * own (`Unavailable` or `Timeout`, retryable) well within it, never waiting in an offline queue
   * or a connect loop that outlives it. @default 15000 (when absent)
   */
  readonly operationTimeoutMs?: number | undefined;
  /** Creates the topic if it doesn't exist; idempotent. memory: a map entry; Redis: nothing until the first XADD (the stream key); RabbitMQ: a fanout exchange; SQS: the SNS topic (fan-out mode) or the queue (queue mode); Pub/Sub: the topic. */
  ensureTopic(spec: TopicSpec): Promise<void>;
  /**
   * Creates (or verifies) the topic, the subscription and, when `spec.deadLetter`, its DLQ;
   * idempotent. A message published after this resolved must reach the subscription. Should throw
   * `AlreadyExists`-coded errors naming the conflicting setting when the broker holds the
   * subscription with incompatible settings.
   */
  ensureSubscription(spec: SubscriptionSpec): Promise<void>;
  /**
   * Publishes a batch within {@link Capabilities.batch}`.publish` to a topic and resolves once the
   * broker has durably accepted every entry not listed as failed in the {@link BatchResult}
   * (publisher confirm, XADD reply, SQS/SNS response, Pub/Sub publish response). A rejection means
   * any of them may or may not have been sent. Publishing to a topic that doesn't exist must either
   * create it or throw `NotFound`.
   * - memory: enqueues to every subscription. Redis: pipelined `XADD`s. RabbitMQ: publishes on a
   *   confirm channel and waits for the confirms. SQS: `SendMessageBatch` ≤ 10 (queue mode) or SNS
   *   `PublishBatch` ≤ 10, both per entry. Pub/Sub: `publish` with the client's batching.
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<BatchResult | undefined>;
  /**
   * Opens a consuming session on a subscription created by {@link ensureSubscription}. Must throw a
   * `NotFound`-coded error if the subscription doesn't exist.
   */
  subscribe(spec: SubscriptionSpec, options: SubscribeOptions): Promise<DriverSubscription>;
  /** Counts for {@link Capabilities.stats}; the subscription must exist (`NotFound` otherwise, built with core's `subscriptionNotFound`). */
  stats(ref: SubscriptionRef): Promise<DriverStats>;
  /**
   * Dead letters currently stored, in the DLQ's order, as {@link Capabilities.deadLetterAdmin}`.peek`
   * allows: without removing them (memory, Redis `XRANGE`, RabbitMQ get + requeue), or by
   * receiving them (SQS, Pub/Sub: counts a receive, and the user is told so).
   */
  peekDeadLetters(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]>;
  /** How many dead letters are stored, exact or approximate as declared. */
  countDeadLetters(ref: SubscriptionRef): Promise<number>;
  /**
   * Moves up to `limit` dead letters, in the DLQ's order, back to the subscription (or, where
   * `deadLetterAdmin.redrive` is `topic`, to the topic), keeping their id, with the attempt count
   * starting again at 1. Moves at most the dead letters present when the call starts: one that is
   * dead-lettered again during the call stays. Returns how many were moved. At least once: a crash
   * midway may leave one in both places, never in neither.
   */
  redriveDeadLetters(ref: SubscriptionRef, limit: number): Promise<number>;
  /** Deletes every dead letter; returns how many were deleted (or `undefined` if the broker can't say). */
  purgeDeadLetters(ref: SubscriptionRef): Promise<number | undefined>;
  /**
   * Opens a {@link DeadLetterCursor} on the subscription's DLQ (`NotFound` if the subscription
   * doesn't exist). Core uses it for selective list, redrive and purge (`dlq.select(…)`).
   */
  openDeadLetters(ref: SubscriptionRef, options: OpenDeadLettersOptions): Promise<DeadLetterCursor>;
  /**
   * Deletes a subscription and its DLQ with every message in them; resolves `true` if it existed,
   * `false` if there was nothing to delete (idempotent). Consumers still attached may fail with
   * `NotFound` afterwards. memory: drops the queue; Redis: `XGROUP DESTROY` plus the DLQ, retry
   * stream and delay set; RabbitMQ: `queue.delete` of the queue, its DLQ and delay queues; SQS: the
   * SNS subscription, the queue and the DLQ queue; Pub/Sub: the subscription, the DLQ subscription
   * and the DLQ topic.
   */
  deleteSubscription(ref: SubscriptionRef): Promise<boolean>;
  /**
   * Deletes a topic; resolves `true` if it existed, `false` otherwise (idempotent). Its
   * subscriptions are **not** deleted (delete them first with {@link deleteSubscription}): on
   * brokers that keep them (SQS queues, Pub/Sub subscriptions, RabbitMQ queues) they stop receiving
   * and keep what they hold; on Redis, whose subscriptions live inside the topic's stream, deleting
   * the topic while subscriptions exist throws `InvalidArgument` naming them. memory: the map entry,
   * under Redis's rule (its subscriptions live inside the topic too);
   * RabbitMQ: `exchange.delete`; SQS: `DeleteTopic` (fan-out) or `DeleteQueue` (queue mode, with its
   * subscription); Pub/Sub: `deleteTopic`.
   */
  deleteTopic(spec: TopicSpec): Promise<boolean>;
  /**
   * Maps a native error onto a portable code and says whether calling again may succeed. Called by
   * core for any error a driver method throws that is not already an `OmnibusError`. Drivers should
   * implement it with one lookup table.
   */
  classifyError?(error: unknown): ErrorClassification | undefined;
  /** Hooks for `bus.settled()`: only the memory driver has them. */
  readonly testHooks?: DriverTestHooks | undefined;
  /** Closes connections. In-flight messages not acked are released by the broker. Idempotent. */
  close(): Promise<void>;
}

/**
 * What a driver that can tell when everything is settled offers tests (memory). Not part of the
 * production contract: `bus.settled()` rejects `Unsupported` without it.
 */
export interface DriverTestHooks {
  /** Everything idle: no message ready or in flight in any subscription, no delayed message due. */
  isIdle(): boolean;
  /** Calls `listener` after every state change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Codes of `OmnibusError`. Never renamed. */
export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'MessageTooLarge'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'Unavailable'
  | 'Timeout'
  | 'Unsupported'
  | 'Closed'
  | 'Config'
  | 'Internal';

/** A driver's verdict on a native error. */
export interface ErrorClassification {
  /** The portable code. */
  readonly code: ErrorCode;
  /** Whether the same call may succeed if made again. */
  readonly retryable: boolean;
  /** A message to use instead of the native one (it must not contain secrets). */
  readonly message?: string;
}

/**
 * The shape of an adapter package's module, which `connect(url)` loads by scheme. Every adapter's
 * entry point exports `fromUrl` (and its own factory, e.g. `redis(options)`).
 */
export interface AdapterModule {
  /** Builds a driver from a parsed URL; the query parameters core consumes (`prefix`) are already removed. */
  fromUrl(url: URL): DriverV2 | Promise<DriverV2>;
}

/** For a driver's per-message bookkeeping: an intrusive list, as core keeps its unsettled messages. */
export { type Linked, LinkedList } from './linked-list.js';
