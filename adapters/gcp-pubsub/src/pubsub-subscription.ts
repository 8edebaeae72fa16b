// One consuming session: unary pull, acknowledge and modifyAckDeadline, with leases left to core.
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
import { ackDeadlineSeconds, SERVICE_LIMITS } from './service-limits.js';

/** A receive asking for at least twice this many messages pulls in two requests at once. */
const SPLIT_AT = 50;

import { acknowledge, groupBy, modifyAckDeadline } from './settle.js';

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

/**
 * A session pulls with unary `pull` (never the library's streaming pull, whose lease manager
 * would extend every message for up to an hour behind core's back), one request per `receive`.
 * Nothing is buffered: what a pull returns goes to core, so `close()` has nothing to release but
 * the result of a pull still on the wire, which goes back uncounted when it lands.
 */
export class PubSubSubscription implements DriverSubscription {
  readonly #context: SessionContext;
  readonly #pending = new Set<Promise<unknown>>();
  /** A pull an earlier receive started and didn't wait for. */
  #ahead: Promise<PulledMessage[]> | undefined;
  /** What each pull answered, once it did (read without waiting). */
  readonly #answers = new WeakMap<Promise<PulledMessage[]>, PulledMessage[]>();
  /** Messages pulled beyond what an earlier receive could take, with when they were kept. */
  #buffer: { message: ReceivedMessage; at: number }[] = [];
  #closed = false;

  constructor(context: SessionContext) {
    this.#context = context;
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    if (this.#closed)
      throw new ClosedError('the Pub/Sub subscription is closed', { driver: 'gcp-pubsub' });
    if (request.signal.aborted) return [];
    const max = Math.min(request.maxMessages, SERVICE_LIMITS.messagesPerPublish);
    // What an earlier receive's second pull brought after that receive returned comes first.
    const buffered = this.#takeBuffered(max);
    if (buffered.length > 0) return buffered;
    // Under backlog, two pulls in flight keep the emulator (and the service) busy while core
    // works on a batch: the second one's messages wait here for the next receive. Never on an
    // ordered subscription: the second pull may answer first, with later messages of a key.
    const split = !this.#context.spec.ordering && max >= 2 * SPLIT_AT;
    const sizes = split ? [Math.ceil(max / 2), Math.floor(max / 2)] : [max];
    const pulls = this.#ahead !== undefined ? [this.#ahead] : sizes.map((size) => this.#pull(size));
    this.#ahead = undefined;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      request.signal.addEventListener('abort', onAbort, { once: true });
    });
    let first: PulledMessage[] | 'aborted';
    try {
      first = await Promise.race([Promise.race(pulls), aborted]);
    } catch (error) {
      for (const pull of pulls) this.#giveBack(pull);
      throw error;
    } finally {
      if (onAbort !== undefined) request.signal.removeEventListener('abort', onAbort);
    }
    if (first === 'aborted' || this.#closed) {
      // What the pulls bring later was never handed out: back at once, uncounted.
      for (const pull of pulls) this.#giveBack(pull);
      return [];
    }
    // The pull that answered, and any other that answered by now, go to core; one still waiting
    // becomes the next receive's.
    const ready: PulledMessage[] = [];
    for (const pull of pulls) {
      const answer = this.#answers.get(pull);
      if (answer !== undefined) ready.push(...answer);
      else this.#ahead = pull;
    }
    if (ready.length === 0) return [];
    const messages = await this.#admit(ready);
    if (request.signal.aborted || this.#closed) {
      await this.#releaseQuietly(messages);
      return [];
    }
    if (messages.length > max) {
      this.#buffer.push(...messages.slice(max).map((message) => ({ message, at: Date.now() })));
      return messages.slice(0, max);
    }
    return messages;
  }

  /** One pull of up to `maxMessages`; an empty answer after its deadline is `[]`. */
  #pull(maxMessages: number): Promise<PulledMessage[]> {
    const { clients, subscriptionPath, pullTimeoutMs } = this.#context;
    // The gRPC deadline alone bounds a pull: a time limit around it would drop an answer that
    // arrives late (an event loop blocked past the deadline), and with it the messages it holds.
    const pull = clients.subscriber
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
    this.#track(pull);
    pull.then(
      (answer) => this.#answers.set(pull, answer),
      () => undefined,
    );
    return pull;
  }

  /** Messages an earlier receive kept, up to `max`; those kept past a third of the lease go back. */
  #takeBuffered(max: number): ReceivedMessage[] {
    if (this.#buffer.length === 0) return [];
    const staleBefore = Date.now() - this.#context.spec.ackDeadlineMs / 3;
    const stale = this.#buffer.filter((entry) => entry.at < staleBefore);
    if (stale.length > 0) {
      this.#buffer = this.#buffer.filter((entry) => entry.at >= staleBefore);
      void this.#releaseQuietly(stale.map((entry) => entry.message));
    }
    const taken = this.#buffer.splice(0, max);
    return taken.map((entry) => entry.message);
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

  #giveBack(pull: Promise<PulledMessage[]>): void {
    this.#track(pull.then((late) => this.#releaseQuietly(late.map((m) => this.#toReceived(m)))));
  }

  /** Hands back what close() finds kept for a later receive. */
  #giveBackKept(): void {
    const kept = this.#buffer.map((entry) => entry.message);
    this.#buffer = [];
    if (kept.length > 0) this.#track(this.#releaseQuietly(kept));
    if (this.#ahead !== undefined) this.#giveBack(this.#ahead);
    this.#ahead = undefined;
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
    await acknowledge(
      this.#context.clients,
      this.#context.subscriptionPath,
      typed.map((handle) => handle.ackId),
    );
    for (const handle of typed) this.#context.ledger.settled(handle.key, handle.ackId);
    return undefined;
  }

  async nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
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
