// One consuming session: unary pull a few batches ahead of core, merged acknowledges, modifyAckDeadline; leases left to core.
import { ClosedError } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterRequest,
  DriverSubscription,
  LeaseRequest,
  NackRequest,
  ReceivedMessage,
  ReceiveRequest,
  ReleaseRequest,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import type { AttemptLedger } from './attempt-ledger.js';
import { GRPC } from './classify-error.js';
import type { Clients } from './clients.js';
import { type PulledMessage, toDeadLetterMessage, toReceivedMessage } from './message-mapping.js';
import type { Publisher } from './publisher.js';
import {
  ackDeadlineSeconds,
  SERVICE_LIMITS,
  subscriptionAckDeadlineSeconds,
} from './service-limits.js';

import { AckMerger, acknowledge, groupBy, modifyAckDeadline } from './settle.js';

/**
 * Messages a session keeps pulled ahead of core, per message core may hold (`maxOutstanding`),
 * within {@link MAX_AHEAD}: enough that the next receive finds its batch waiting, few enough
 * that competing consumers on the subscription still get their share of a backlog.
 */
export const AHEAD_PER_SLOT = 5;
/** Most messages a session keeps ahead of core, whatever its concurrency: one pull's worth. */
const MAX_AHEAD = 1_000;
/** Pulls in flight at once on an unordered subscription, so one's round trip hides the other's. */
const MAX_PULLS = 2;
/** Acknowledge requests in flight at once per session; more acks wait and go out merged. */
const MAX_ACKS_IN_FLIGHT = 2;

/** What the driver keeps to settle one delivery. */
export interface PubSubHandle {
  readonly ackId: string;
  /** The attempt ledger's key: subscription and Pub/Sub message id. */
  readonly key: string;
}

/** What a session needs from its driver. */
export interface SessionContext {
  readonly clients: Clients;
  readonly publisher: Publisher;
  readonly ledger: AttemptLedger;
  readonly spec: SubscriptionSpec;
  /** Most unsettled messages core holds at once (its concurrency): what pulling ahead is sized by. */
  readonly maxOutstanding: number;
  /** Full path of the subscription. */
  readonly subscriptionPath: string;
  /** Full path of the DLQ topic, when the subscription has one. */
  readonly deadLetterTopicPath: string | undefined;
  /**
   * The consumer's lease in seconds where it differs from the subscription's ack deadline (fixed
   * by whoever created it): each pulled batch is then set to it before core sees it.
   */
  readonly leaseSeconds: number | undefined;
  /** How long one pull may wait for messages, in ms. */
  readonly pullTimeoutMs: number;
  readonly onClose: (session: PubSubSubscription) => void;
}

/** A message pulled ahead of core, with when its lease was last set. */
interface Kept {
  readonly message: ReceivedMessage;
  leasedAt: number;
}

/**
 * A session pulls with unary `pull` (never the library's streaming pull, whose lease manager
 * would extend every message for up to an hour behind core's back), and pulls ahead: up to
 * {@link AHEAD_PER_SLOT} × `maxOutstanding` messages (≤ {@link MAX_AHEAD}) wait here for core's
 * next receive, so a backlog drains at the pace of the handlers rather than of a pull, a
 * modifyAckDeadline and an ack per batch core has room for. Kept messages have their lease
 * renewed, never released while the consumer runs: a release is a delivery attempt to the
 * service, and a slow consumer's kept messages must not creep towards the subscription's
 * dead-letter policy. When core stops receiving (its signal aborts) or the session closes, they go
 * back at once. On an unordered subscription two pulls may be in flight; on an ordered one they
 * take turns, kept messages join in the order pulled, and a nack or release of a keyed message
 * sends back the kept messages of its key with it.
 */
export class PubSubSubscription implements DriverSubscription {
  readonly #context: SessionContext;
  readonly #pending = new Set<Promise<unknown>>();
  /** Messages pulled ahead, oldest first. */
  #buffer: Kept[] = [];
  /** Pulls on the wire (or being admitted), with how many messages each asked for. */
  readonly #pulls = new Map<Promise<PulledMessage[]>, number>();
  /** Messages pulled and being admitted (their lease set) before they join the buffer. */
  #admitting = 0;
  /** The latest pull's messages joining the buffer, which the next pull's wait for. */
  #lastKept: Promise<void> = Promise.resolve();
  /** A background pull's failure, for the next receive to report. */
  #failure: unknown;
  /** Receives waiting for a pull to land. */
  readonly #waiters = new Set<() => void>();
  /** The signal of core's receives, watched so its abort hands kept messages back at once. */
  #signal: AbortSignal | undefined;
  /** Set between an abort of core's signal and the next receive: whatever lands goes back. */
  #stopped = false;
  readonly #leaseMs: number;
  readonly #keepAhead: number;
  readonly #maxPulls: number;
  readonly #renewal: NodeJS.Timeout;
  readonly #acks: AckMerger;
  #closed = false;

  constructor(context: SessionContext) {
    this.#context = context;
    this.#acks = new AckMerger(context.clients, context.subscriptionPath, MAX_ACKS_IN_FLIGHT);
    this.#leaseMs = subscriptionAckDeadlineSeconds(context.spec.ackDeadlineMs) * 1_000;
    this.#keepAhead = Math.min(MAX_AHEAD, AHEAD_PER_SLOT * Math.max(1, context.maxOutstanding));
    // Two pulls in flight may answer out of order: on an ordered subscription they take turns.
    this.#maxPulls = context.spec.ordering ? 1 : MAX_PULLS;
    // Every sixth of the lease, kept messages a third through it are renewed: none ever nears its end.
    this.#renewal = setInterval(() => this.#renewKept(), Math.floor(this.#leaseMs / 6));
    this.#renewal.unref();
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    if (this.#closed)
      throw new ClosedError('the Pub/Sub subscription is closed', { driver: 'gcp-pubsub' });
    const { signal } = request;
    if (signal.aborted) return [];
    this.#watch(signal);
    this.#stopped = false;
    const max = Math.min(request.maxMessages, SERVICE_LIMITS.messagesPerPublish);
    for (;;) {
      const taken = this.#buffer.splice(0, max);
      if (taken.length > 0) {
        this.#refill(0);
        return this.#handOut(taken, signal);
      }
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      this.#refill(max);
      // Every pull came back empty: core asks again (and may stop in between).
      if (!this.#pulling) return [];
      await this.#landed(signal);
      if (signal.aborted || this.#closed) return [];
      if (this.#buffer.length === 0 && this.#failure === undefined && !this.#pulling) return [];
    }
  }

  /**
   * Hands kept messages to core, first renewing the lease of any kept long enough that core,
   * which counts its lease from now, could renew it too late.
   */
  async #handOut(taken: Kept[], signal: AbortSignal): Promise<ReceivedMessage[]> {
    const renewBefore = Date.now() - this.#leaseMs / 6;
    const old = taken.filter((kept) => kept.leasedAt < renewBefore);
    let fresh = taken;
    if (old.length > 0) {
      const lapsed = await this.#renew(old);
      if (lapsed.size > 0) fresh = taken.filter((kept) => !lapsed.has(kept));
    }
    const messages = fresh.map((kept) => kept.message);
    if (signal.aborted || this.#closed) {
      this.#track(this.#releaseQuietly(messages));
      return [];
    }
    return messages;
  }

  /** Starts pulls until the kept messages and those asked for reach what this session keeps. */
  #refill(demand: number): void {
    if (this.#closed || this.#stopped) return;
    const target = Math.min(SERVICE_LIMITS.messagesPerPublish, Math.max(this.#keepAhead, demand));
    let asked = 0;
    for (const size of this.#pulls.values()) asked += size;
    let missing = target - this.#buffer.length - this.#admitting - asked;
    while (missing > 0 && this.#pulls.size < this.#maxPulls) {
      const size = Math.ceil(missing / (this.#maxPulls - this.#pulls.size));
      this.#startPull(size);
      missing -= size;
    }
  }

  #startPull(maxMessages: number): void {
    const pull = this.#pull(maxMessages);
    this.#pulls.set(pull, maxMessages);
    const work = pull.then(
      (pulled) => {
        this.#pulls.delete(pull);
        if (this.#closed || this.#stopped) {
          return this.#releaseQuietly(pulled.map((m) => this.#toReceived(m)));
        }
        const kept = this.#keep(pulled);
        // A pull that brought messages is followed at once (its admission still on the wire)
        // while the backlog lasts; an empty one, or a failure, waits for core's next receive, so
        // an idle or broken subscription isn't spun on.
        if (pulled.length > 0) this.#refill(0);
        return kept;
      },
      (error: unknown) => {
        this.#pulls.delete(pull);
        throw error;
      },
    );
    const done = work.catch((error: unknown) => {
      // The pull failed, or the admission (its modifyAckDeadline or the ack of settled copies).
      if (!this.#closed && !this.#stopped) this.#failure = error;
    });
    void done.finally(() => this.#wake());
    this.#track(done);
  }

  /**
   * Admits what a pull brought and keeps it for core, after what earlier pulls brought: their
   * admissions overlap, their messages join the buffer in the order the service handed them out.
   */
  #keep(pulled: readonly PulledMessage[]): Promise<void> {
    this.#admitting += pulled.length;
    const admitted = this.#admit(pulled);
    const before = this.#lastKept;
    const kept = (async () => {
      try {
        const messages = await admitted;
        await before;
        if (this.#closed || this.#stopped) {
          await this.#releaseQuietly(messages);
          return;
        }
        const now = Date.now();
        for (const message of messages) this.#buffer.push({ message, leasedAt: now });
      } finally {
        this.#admitting -= pulled.length;
      }
    })();
    this.#lastKept = kept.catch(() => undefined);
    return kept;
  }

  /** One pull of up to `maxMessages`; an empty answer after its deadline is `[]`. */
  #pull(maxMessages: number): Promise<PulledMessage[]> {
    const { clients, subscriptionPath, pullTimeoutMs } = this.#context;
    // The gRPC deadline alone bounds a pull: a time limit around it would drop an answer that
    // arrives late (an event loop blocked past the deadline), and with it the messages it holds.
    return clients.subscriber
      .pull(
        { subscription: subscriptionPath, maxMessages },
        { timeout: pullTimeoutMs, retry: null },
      )
      .then(
        ([response]) => response.receivedMessages ?? [],
        (error: unknown) => {
          // An empty long poll that ran into its deadline is not an error.
          if ((error as { code?: unknown }).code === GRPC.DEADLINE_EXCEEDED) return [];
          throw error;
        },
      );
  }

  /** Whether messages may yet join the buffer: a pull on the wire, or an admission. */
  get #pulling(): boolean {
    return this.#pulls.size > 0 || this.#admitting > 0;
  }

  /** Resolves when a pull lands (with messages, empty or failed) or `signal` aborts. */
  #landed(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Core aborts its signal when it stops receiving: what is kept for it goes back then, not at close. */
  #watch(signal: AbortSignal): void {
    if (this.#signal === signal) return;
    this.#signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        if (this.#signal !== signal) return;
        this.#stopped = true;
        this.#giveBackKept();
      },
      { once: true },
    );
  }

  /** Renews the leases of kept messages a third through them. */
  #renewKept(): void {
    const before = Date.now() - this.#leaseMs / 3;
    const due = this.#buffer.filter((kept) => kept.leasedAt < before);
    if (due.length > 0) this.#track(this.#renew(due));
  }

  /**
   * Sets the leases of kept messages again; those whose renewal failed may have lapsed, so they
   * leave the buffer (the service redelivers them) and are returned. No handler saw them, so the
   * ledger does not count their delivery as an attempt.
   */
  async #renew(kept: readonly Kept[]): Promise<Set<Kept>> {
    const at = Date.now();
    try {
      await modifyAckDeadline(
        this.#context.clients,
        this.#context.subscriptionPath,
        kept.map((entry) => (entry.message.handle as PubSubHandle).ackId),
        this.#leaseMs / 1_000,
      );
      for (const entry of kept) entry.leasedAt = at;
      return new Set();
    } catch {
      const lapsed = new Set(kept);
      this.#buffer = this.#buffer.filter((entry) => !lapsed.has(entry));
      for (const entry of kept)
        this.#context.ledger.released((entry.message.handle as PubSubHandle).key);
      return lapsed;
    }
  }

  /**
   * Turns pulled messages into received ones: acks again what this process already acked (see
   * AttemptLedger.isSettled), sets the consumer's lease where it differs from the subscription's.
   */
  async #admit(pulled: readonly PulledMessage[]): Promise<ReceivedMessage[]> {
    const { clients, subscriptionPath, ledger, leaseSeconds } = this.#context;
    const fresh: PulledMessage[] = [];
    const settledBefore: string[] = [];
    for (const m of pulled) {
      if (ledger.isSettled(this.#keyOf(m))) settledBefore.push(m.ackId ?? '');
      else fresh.push(m);
    }
    if (settledBefore.length > 0) await acknowledge(clients, subscriptionPath, settledBefore);
    if (fresh.length === 0) return [];
    if (leaseSeconds !== undefined) {
      await modifyAckDeadline(
        clients,
        subscriptionPath,
        fresh.map((m) => m.ackId ?? ''),
        leaseSeconds,
      );
    }
    return fresh.map((m) => this.#toReceived(m));
  }

  #keyOf(pulled: PulledMessage): string {
    return `${this.#context.subscriptionPath}\n${pulled.message?.messageId ?? ''}`;
  }

  #toReceived(pulled: PulledMessage): ReceivedMessage {
    const key = this.#keyOf(pulled);
    const attempt = this.#context.ledger.delivered(
      key,
      pulled.ackId ?? '',
      pulled.deliveryAttempt ?? 0,
    );
    const handle: PubSubHandle = { ackId: pulled.ackId ?? '', key };
    return toReceivedMessage(pulled, attempt, handle);
  }

  /**
   * On an ordered subscription the service redelivers a nacked or released message and then every
   * later one of its key: kept messages of those keys would overtake it, so they go back too (as
   * core hands back what it holds behind it).
   */
  #releaseKeptBehind(requests: readonly { readonly message: ReceivedMessage }[]): void {
    if (!this.#context.spec.ordering || this.#buffer.length === 0) return;
    const keys = new Set<string>();
    for (const { message } of requests) if (message.orderingKey) keys.add(message.orderingKey);
    if (keys.size === 0) return;
    const behind = (kept: Kept) => keys.has(kept.message.orderingKey ?? '');
    const released = this.#buffer.filter(behind);
    if (released.length === 0) return;
    this.#buffer = this.#buffer.filter((kept) => !behind(kept));
    this.#track(this.#releaseQuietly(released.map((kept) => kept.message)));
  }

  /**
   * Hands back the messages kept for core; pulls still on the wire hand theirs back when they
   * land (the session is stopped or closed by then).
   */
  #giveBackKept(): void {
    const kept = this.#buffer.map((entry) => entry.message);
    this.#buffer = [];
    if (kept.length > 0) this.#track(this.#releaseQuietly(kept));
    this.#wake();
  }

  async #releaseQuietly(messages: readonly ReceivedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.release(
      messages.map((message) => ({ handle: message.handle, attempt: message.attempt, message })),
    ).catch(() => undefined);
  }

  #track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  async ack(handles: readonly unknown[]): Promise<BatchResult | undefined> {
    const typed = handles as readonly PubSubHandle[];
    await this.#acks.acknowledge(typed.map((handle) => handle.ackId));
    for (const handle of typed) this.#context.ledger.settled(handle.key, handle.ackId);
    return undefined;
  }

  async nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
    this.#releaseKeptBehind(requests);
    const groups = groupBy(requests, (request) => ackDeadlineSeconds(request.delayMs));
    await Promise.all(
      [...groups].map(([seconds, group]) =>
        modifyAckDeadline(
          this.#context.clients,
          this.#context.subscriptionPath,
          group.map((request) => (request.handle as PubSubHandle).ackId),
          seconds,
        ),
      ),
    );
    return undefined;
  }

  /**
   * `modifyAckDeadline(0)`, which the service counts as a delivery attempt: the ledger takes it
   * off again for this process's next delivery of the message (see {@link AttemptLedger}).
   */
  async release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined> {
    this.#releaseKeptBehind(requests);
    const handles = requests.map((request) => request.handle as PubSubHandle);
    await modifyAckDeadline(
      this.#context.clients,
      this.#context.subscriptionPath,
      handles.map((handle) => handle.ackId),
      0,
    );
    for (const handle of handles) this.#context.ledger.released(handle.key);
    return undefined;
  }

  async extendLease(requests: readonly LeaseRequest[]): Promise<BatchResult | undefined> {
    const groups = groupBy(requests, (request) => Math.max(1, ackDeadlineSeconds(request.leaseMs)));
    await Promise.all(
      [...groups].map(([seconds, group]) =>
        modifyAckDeadline(
          this.#context.clients,
          this.#context.subscriptionPath,
          group.map((request) => (request.handle as PubSubHandle).ackId),
          seconds,
        ),
      ),
    );
    return undefined;
  }

  /** Publishes the copies to the DLQ topic and waits for the service to accept them, then acks. */
  async deadLetter(requests: readonly DeadLetterRequest[]): Promise<BatchResult | undefined> {
    const { deadLetterTopicPath, spec } = this.#context;
    if (deadLetterTopicPath === undefined) {
      throw new ClosedError('this subscription has no DLQ (deadLetter: false)', {
        driver: 'gcp-pubsub',
      });
    }
    await this.#context.publisher.publish(
      deadLetterTopicPath,
      requests.map((request) =>
        toDeadLetterMessage(request.message, {
          reason: request.reason,
          attempts: request.attempts,
          topic: spec.topic,
          subscription: spec.subscription,
        }),
      ),
    );
    return this.ack(requests.map((request) => request.handle));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewal);
    this.#giveBackKept();
    // A pull still on the wire hands its messages back when it lands (see receive); the driver's
    // close waits for that a little (drain), so the release goes out before the clients close.
    this.#context.onClose(this);
  }

  /** Waits up to `ms` for pulls still on the wire (and the release of what they bring). */
  async drain(ms: number): Promise<void> {
    if (this.#pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}
