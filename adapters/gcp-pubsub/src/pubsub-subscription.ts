// One consuming session: unary pull, acknowledge and modifyAckDeadline, with leases left to core.
import { ClosedError } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterRequest,
  DriverSubscription,
  LeaseRequest,
  NackRequest,
  ReceiveRequest,
  ReceivedMessage,
  ReleaseRequest,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import type { AttemptLedger } from './attempt-ledger.js';
import type { Clients } from './clients.js';
import {
  type PulledMessage,
  toDeadLetterMessage,
  toReceivedMessage,
} from './message-mapping.js';
import type { Publisher } from './publisher.js';
import { ackDeadlineSeconds, SERVICE_LIMITS } from './service-limits.js';
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
  #closed = false;

  constructor(context: SessionContext) {
    this.#context = context;
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    if (this.#closed) throw new ClosedError('the Pub/Sub subscription is closed', { driver: 'gcp-pubsub' });
    const { clients, subscriptionPath, pullTimeoutMs } = this.#context;
    if (request.signal.aborted) return [];
    const pull = clients
      .call(
        (options) =>
          clients.subscriber.pull(
            {
              subscription: subscriptionPath,
              maxMessages: Math.min(request.maxMessages, SERVICE_LIMITS.messagesPerPublish),
            },
            options,
          ),
        pullTimeoutMs,
      )
      .then(([response]) => response.receivedMessages ?? []);
    this.#track(pull);
    let aborted = false;
    const onAbort = () => {
      aborted = true;
    };
    const abortedSignal = new Promise<'aborted'>((resolve) => {
      if (request.signal.aborted) resolve('aborted');
      request.signal.addEventListener(
        'abort',
        () => {
          onAbort();
          resolve('aborted');
        },
        { once: true },
      );
    });
    let pulled: PulledMessage[];
    try {
      const first = await Promise.race([pull, abortedSignal]);
      if (first === 'aborted' || this.#closed) {
        // What the pull brings later was never handed out: back at once, uncounted.
        this.#giveBack(pull);
        return [];
      }
      pulled = first;
    } catch (error) {
      if (aborted || this.#closed) return [];
      // An empty long poll that ran into its deadline is not an error.
      if ((error as { code?: unknown }).code === 4) return [];
      throw error;
    }
    if (pulled.length === 0) return [];
    const { ledger } = this.#context;
    const settledBefore = pulled.filter((m) => ledger.isSettled(this.#keyOf(m)));
    if (settledBefore.length > 0) {
      await acknowledge(
        clients,
        subscriptionPath,
        settledBefore.map((m) => m.ackId ?? ''),
      );
      pulled = pulled.filter((m) => !settledBefore.includes(m));
      if (pulled.length === 0) return [];
    }
    const { leaseSeconds } = this.#context;
    if (leaseSeconds !== undefined) {
      await modifyAckDeadline(
        clients,
        subscriptionPath,
        pulled.map((m) => m.ackId ?? ''),
        leaseSeconds,
      );
    }
    const messages = pulled.map((m) => this.#toReceived(m));
    if (request.signal.aborted || this.#closed) {
      await this.#releaseQuietly(messages);
      return [];
    }
    return messages;
  }

  #keyOf(pulled: PulledMessage): string {
    return `${this.#context.subscriptionPath}\n${pulled.message?.messageId ?? ''}`;
  }

  #toReceived(pulled: PulledMessage): ReceivedMessage {
    const key = this.#keyOf(pulled);
    const attempt = this.#context.ledger.delivered(key, pulled.ackId ?? '', pulled.deliveryAttempt ?? 0);
    const handle: PubSubHandle = { ackId: pulled.ackId ?? '', key };
    return toReceivedMessage(pulled, attempt, handle);
  }

  #giveBack(pull: Promise<PulledMessage[]>): void {
    this.#track(
      pull.then((late) => this.#releaseQuietly(late.map((m) => this.#toReceived(m)))),
    );
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
