// The consuming session on one subscription queue: credit-bounded basic.consume, a local buffer, settles, releases.
import { OmnibusError, retryDelay } from '@omnibus/core';
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
import type { Channel, ConsumeMessage } from 'amqplib';
import { deadLetterQueue, subscriptionQueue } from './broker-names.js';
import { classifyError } from './classify-error.js';
import type { ConfirmPublisher, Publication } from './confirm-publisher.js';
import type { DelayQueues } from './delay-queues.js';
import { HEADER, messageId, republishOptions, toReceivedMessage } from './message-mapping.js';
import type { PendingDeadLetters } from './pending-dead-letters.js';
import type { ReconnectingConnection } from './reconnecting-connection.js';

/** What a subscription needs from the driver that opened it. */
export interface SubscriptionContext {
  /** The consume connection. */
  readonly connection: ReconnectingConnection;
  readonly publisher: ConfirmPublisher;
  readonly delayQueues: DelayQueues;
  /** Where dead-lettering in progress is recorded, for the DLQ admin calls. */
  readonly pendingDeadLetters: PendingDeadLetters;
  /**
   * Re-declares the subscription's topology (after a reconnect, or if someone deleted it);
   * `NotFound` when it was deleted through this driver, which ends the session's reopening.
   */
  ensureSubscription(spec: SubscriptionSpec): Promise<void>;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** Called once when the subscription has closed, so the driver forgets it. */
  onClose(subscription: RabbitMQSubscription): void;
}

/** A delivery's settle token: valid for the broker only while its channel is the session's current one. */
interface DeliveryHandle {
  readonly session: RabbitMQSubscription;
  readonly channel: Channel;
  readonly message: ConsumeMessage;
  /** Set once core settled it (ack, nack, dead letter, or a no-op on a dead channel). */
  settled: boolean;
  /** The consumption it was handed out under (see `#epoch`). */
  readonly epoch: number;
}

interface Buffered {
  readonly channel: Channel;
  readonly message: ConsumeMessage;
}

/** Copies keep Omnibus's own headers; the dead-letter reason is cut last when a frame can't hold it all. */
const SHRINK = {
  keep: (name: string) => {
    const lower = name.toLowerCase();
    return lower.startsWith('omnibus') || lower === HEADER.traceparent;
  },
  shorten: HEADER.deadLetterReason,
};

/** Whether a failed publish may succeed if tried again. */
function isRetryable(error: unknown): boolean {
  if (OmnibusError.isInstance(error)) return error.retryable;
  return classifyError(error)?.retryable ?? true;
}

/** How many "returned without being handled" marks a session remembers (oldest dropped first). */
const UNCOUNTED_RETURNS_LIMIT = 10_000;

/**
 * One consuming session. The broker may push at most as many deliveries as core can start: the
 * session's consumers' prefetch adds up to `maxOutstanding` minus the deliveries core still holds
 * from a channel that died (their handlers are still running, but the broker no longer counts
 * them). A fixed prefetch would let the broker refill the buffer behind busy slots, where a
 * redelivery waits unhandled until `consumer_timeout` closes the channel again and each round
 * burns an attempt. Credit freed when those handlers finish is granted as one more consumer on
 * the same channel (`basic.qos` only applies to consumers created after it).
 *
 * The session survives its channel: when the channel or the connection closes, the broker
 * requeues every unacked delivery, the session drops what it buffered (and remembers that those
 * returns were not attempts), marks handed-out handles stale (settling them is a no-op: they will
 * be redelivered) and consumes again once reconnected.
 */
export class RabbitMQSubscription implements DriverSubscription {
  readonly #queue: string;
  #channel: Channel | undefined;
  /** Consumers on the current channel, and the prefetch they were granted in total. */
  #consumerTags: string[] = [];
  #granted = 0;
  #growing: Promise<void> | undefined;
  /** False once a release or close() stopped consumption on the current channel. */
  #consuming = true;
  #stopping: Promise<void> | undefined;
  /** Deliveries not yet handed out; a head index instead of `shift()` keeps taking O(1). */
  #buffer: Buffered[] = [];
  #head = 0;
  /** Handed out on the current channel and not settled yet. */
  #outstanding = 0;
  /** Handed out on any channel and not settled by core yet (includes handles of dead channels). */
  #held = 0;
  /**
   * Messages the broker returned, and counted in `x-delivery-count`, although no handler saw that
   * delivery (buffered on a channel that died, released from a dead channel): by message id, how
   * many to take off the count when the message comes back to this session.
   */
  readonly #uncountedReturns = new Map<string, number>();
  #wakeReceivers = new Set<() => void>();
  #closed = false;
  /** Set once the first consume succeeded; only then does a lost channel start a reconnect loop. */
  #started = false;
  #reopening: Promise<void> | undefined;
  /** Set when the subscription was deleted through this driver: every receive then rejects with it. */
  #deleted: OmnibusError | undefined;
  /** Consumption coming back after a release, for a receive that follows it. */
  #resuming: Promise<void> | undefined;
  /**
   * Counts resumes. A delivery handed out before the last one came through a cancelled consumer:
   * its settle frees no prefetch on any consumer, so it gives its share of `#granted` back instead.
   */
  #epoch = 0;
  /** Set by the first close(): later calls wait for the same one. */
  #closing: Promise<void> | undefined;

  constructor(
    private readonly context: SubscriptionContext,
    readonly spec: SubscriptionSpec,
    private readonly maxOutstanding: number,
  ) {
    this.#queue = subscriptionQueue(spec);
  }

  /** Deliveries handed out by this process and not settled yet (the broker's count isn't exposed over AMQP). */
  get outstanding(): number {
    return this.#held;
  }

  /** Total prefetch of the current channel's consumers: what the broker may push before acks. */
  get granted(): number {
    return this.#granted;
  }

  async start(): Promise<void> {
    try {
      await this.#open();
      this.#started = true;
      if (this.#channel === undefined && !this.#closed) this.#reopen();
    } catch (error) {
      this.#closed = true;
      throw error;
    }
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const { signal } = request;
    // Consumption stopped for a release (core's stop, or a caller handing a delivery back while it
    // keeps receiving): a receive asks for messages again.
    if (!signal.aborted && !this.#consuming && !this.#closed) this.#resume();
    for (;;) {
      if (signal.aborted || this.#closed) return [];
      if (this.#buffered() > 0) return this.#take(request.maxMessages);
      if (this.#deleted !== undefined) throw this.#deleted;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#wakeReceivers.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#wakeReceivers.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /**
   * `basic.ack` per delivery, or one `basic.ack` with `multiple` when the batch is every delivery
   * handed out on the channel and not settled yet: `multiple` acks every unacked tag up to the
   * highest, and no other delivery can be among them (buffered ones came later, so their tags are
   * higher; nacked and dead-lettered ones are no longer unacked). One frame instead of one per
   * message saves the broker, which shares the machine, more than the client. A stale handle (its
   * channel died, or it was settled already) is skipped: acking an unknown delivery tag would make
   * the broker close the channel.
   */
  async ack(handles: readonly unknown[]): Promise<BatchResult | undefined> {
    // A set: a handle given twice is acked once, as it was when each ack marked it settled.
    const live = new Set<DeliveryHandle>();
    for (const handle of handles) {
      const delivery = this.#claim(handle);
      if (delivery !== undefined) live.add(delivery);
    }
    if (live.size > 1 && live.size === this.#outstanding) {
      let last: DeliveryHandle | undefined;
      for (const delivery of live) {
        if (last === undefined || tagOf(delivery) > tagOf(last)) last = delivery;
      }
      const highest = last!;
      tryOn(highest.channel, (channel) => channel.ack(highest.message, true));
      for (const delivery of live) this.#settled(delivery);
      return undefined;
    }
    for (const delivery of live) this.#settle(delivery, (channel) => channel.ack(delivery.message));
    return undefined;
  }

  /**
   * Delay 0: `basic.nack` with requeue (quorum queues count it in `x-delivery-count`). A delay: a
   * copy parked in this subscription's delay bucket (which dead-letters back to this subscription's
   * queue only), carrying the ended attempt in a header since the copy restarts the broker's count;
   * the original is acked once the copy is confirmed.
   */
  async nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
    const delayed: { index: number; delivery: DeliveryHandle; request: NackRequest }[] = [];
    requests.forEach((request, index) => {
      const delivery = this.#claim(request.handle);
      if (delivery === undefined) return;
      if (request.delayMs <= 0)
        this.#settle(delivery, (channel) => channel.nack(delivery.message, false, true));
      else delayed.push({ index, delivery, request });
    });
    if (delayed.length === 0) return undefined;
    const publications: Publication[] = [];
    const queues: string[] = [];
    for (const { delivery, request } of delayed) {
      const queue = await this.context.delayQueues.forSubscription(this.spec, request.delayMs);
      queues.push(queue);
      const options = republishOptions(delivery.message, { [HEADER.attempts]: request.attempt });
      options.expiration = String(Math.ceil(request.delayMs));
      options.mandatory = true;
      publications.push({
        exchange: '',
        routingKey: queue,
        content: delivery.message.content,
        options,
        shrink: SHRINK,
      });
    }
    return this.#publishThenAck(
      delayed,
      publications,
      // A copy that can never be published: requeue the original (counted, but it keeps moving).
      (channel, message) => channel.nack(message, false, true),
      {
        onFailure: () => {
          for (const queue of queues) this.context.delayQueues.forget(queue);
        },
      },
    );
  }

  /**
   * Hands deliveries no handler saw back without using an attempt. A requeue would count in
   * `x-delivery-count`, so each goes back as a copy on this subscription's queue carrying one
   * attempt less than the released delivery (its next delivery adds the one back); the original is
   * acked once the copy is confirmed. Consumption stops first (core releases when it stops
   * consuming), or the copies would come straight back to this consumer and could cross its
   * cancel; a later receive starts it again. A handle whose channel died is remembered instead:
   * the broker requeued it (counted), and its next delivery to this session takes that off.
   */
  async release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined> {
    const released: { index: number; delivery: DeliveryHandle; request: ReleaseRequest }[] = [];
    requests.forEach((request, index) => {
      const delivery = this.#claim(request.handle, true);
      if (delivery !== undefined) released.push({ index, delivery, request });
    });
    if (released.length === 0) return undefined;
    const channel = this.#channel;
    if (channel !== undefined) await this.#stopConsuming(channel);
    const publications = released.map(({ delivery, request }): Publication => {
      const options = republishOptions(delivery.message, {
        [HEADER.attempts]: Math.max(0, request.attempt - 1),
      });
      options.mandatory = true;
      return {
        exchange: '',
        routingKey: this.#queue,
        content: delivery.message.content,
        options,
        shrink: SHRINK,
      };
    });
    const result = await this.#publishThenAck(
      released,
      publications,
      // A copy that can never be published: requeue the original (counted, but never lost).
      (open, message) => open.nack(message, false, true),
      { release: true },
    );
    // A receive already waiting (a handler's message.release() while its consumer kept receiving)
    // would never be woken: nothing is delivered while consumption is stopped. The copies are
    // confirmed, so consuming again can't cross them.
    if (this.#wakeReceivers.size > 0 && !this.#closed) this.#resume();
    return result;
  }

  /** Nothing to do: RabbitMQ holds an unacked delivery until it is settled or its channel closes. */
  async extendLease(_requests: readonly LeaseRequest[]): Promise<BatchResult | undefined> {
    return undefined;
  }

  /**
   * A copy straight to the DLQ with core's reason and attempts, then the original acked once the
   * copy is confirmed.
   */
  async deadLetter(requests: readonly DeadLetterRequest[]): Promise<BatchResult | undefined> {
    const deliveries: { index: number; delivery: DeliveryHandle }[] = [];
    const publications: Publication[] = [];
    const queue = deadLetterQueue(this.spec);
    const now = Date.now();
    for (const [index, request] of requests.entries()) {
      const delivery = this.#claim(request.handle);
      if (delivery === undefined) continue;
      deliveries.push({ index, delivery });
      // Core's attempts and reason, verbatim: a delivery over maxAttempts was never handled.
      const options = republishOptions(delivery.message, {
        [HEADER.deadLetterReason]: request.reason,
        [HEADER.deadLetterAttempts]: request.attempts,
        [HEADER.deadLetteredAt]: now,
      });
      // Straight to the DLQ through the default exchange with `mandatory`: a missing DLQ comes back
      // as a return (NotFound) instead of a 404 that would close the shared confirm channel.
      options.mandatory = true;
      publications.push({
        exchange: '',
        routingKey: queue,
        content: delivery.message.content,
        options,
        shrink: SHRINK,
      });
    }
    // A copy that can never be published (headers amqplib can't encode): the broker dead-letters
    // the original itself (basic.reject to the queue's dead-letter exchange, reason "rejected"),
    // rather than leaving it unsettled on the channel, where it would hold a slot for good.
    return this.context.pendingDeadLetters.track(
      queue,
      this.#publishThenAck(deliveries, publications, (channel, message) =>
        channel.nack(message, false, false),
      ),
    );
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close().finally(() => this.context.onClose(this));
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#wakeReceivers]) wake();
    const channel = this.#channel;
    if (channel === undefined) return;
    await this.#stopConsuming(channel);
    // Buffered but never handed out: back on the queue for other consumers, as copies with the
    // same attempt (a basic.nack would count a delivery no handler got).
    const unhanded: Buffered[] = [];
    for (let index = this.#head; index < this.#buffer.length; index++) {
      const entry = this.#buffer[index];
      if (entry !== undefined && entry.channel === channel) unhanded.push(entry);
    }
    this.#buffer = [];
    this.#head = 0;
    if (unhanded.length > 0) await this.#releaseUnhanded(channel, unhanded);
    // Handed-out deliveries stay leased until core settles them; the channel closes after the last.
    if (this.#outstanding === 0) await this.#closeChannel(channel);
  }

  /**
   * Cancels this channel's consumers; nothing more is granted until the channel is reopened. A
   * quorum queue may still deliver to a consumer after its cancel-ok, and amqplib throws on a
   * delivery for a consumer it forgot: the message would sit unacked until the channel closes and
   * come back counted. Such a straggler is released like the buffer. Every caller waits for the
   * same cancel-ok: a copy published before it could be assigned to the consumer being cancelled,
   * and RabbitMQ keeps such a message checked out to the channel until it closes (counted).
   */
  #stopConsuming(channel: Channel): Promise<void> {
    this.#consuming = false;
    this.#stopping ??= (async () => {
      await this.#growing?.catch(() => undefined);
      for (const tag of this.#consumerTags.splice(0)) {
        await channel.cancel(tag).catch(() => undefined);
        consumerTable(channel)?.set(tag, (message) => {
          if (message !== null) this.#track(this.#releaseUnhanded(channel, [{ channel, message }]));
        });
      }
    })();
    return this.#stopping;
  }

  /**
   * Starts consuming again on the current channel once the stop for a release is done. The
   * cancelled consumers' deliveries core still holds count against the new credit.
   */
  #resume(): void {
    const channel = this.#channel;
    if (channel === undefined || this.#resuming !== undefined) return;
    this.#resuming = (this.#stopping ?? Promise.resolve()).then(() => {
      this.#resuming = undefined;
      if (this.#closed || this.#consuming || this.#channel !== channel) return;
      this.#consuming = true;
      this.#stopping = undefined;
      this.#epoch++;
      this.#granted = this.#outstanding;
      this.#grow();
    });
  }

  /** Releases of stragglers in progress; the channel closes only after them. */
  readonly #releasing = new Set<Promise<void>>();

  #track(release: Promise<void>): void {
    this.#releasing.add(release);
    void release.finally(() => this.#releasing.delete(release));
  }

  /** Closes the channel at once, releasing everything unacked (driver shutdown). */
  async destroy(): Promise<void> {
    await this.close();
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel !== undefined) await channel.close().catch(() => undefined);
  }

  async #releaseUnhanded(channel: Channel, entries: readonly Buffered[]): Promise<void> {
    const results = await Promise.allSettled(
      entries.map((entry) => {
        const attempt = this.#compensated(toReceivedMessage(entry.message, undefined), true);
        const options = republishOptions(entry.message, { [HEADER.attempts]: attempt - 1 });
        options.mandatory = true;
        return this.context.publisher.publish([
          {
            exchange: '',
            routingKey: this.#queue,
            content: entry.message.content,
            options,
            shrink: SHRINK,
          },
        ]);
      }),
    );
    results.forEach((result, index) => {
      const entry = entries[index]!;
      // Copy confirmed: drop the original. Otherwise requeue it (counted, but never lost).
      if (result.status === 'fulfilled') tryOn(channel, (open) => open.ack(entry.message));
      else tryOn(channel, (open) => open.nack(entry.message, false, true));
    });
  }

  /**
   * Publishes each copy, then acks its original once the copy is confirmed. A copy that failed in
   * a way that can't change on a retry gets `fallback` on its original instead; other failures
   * leave the original unsettled and are reported for their request's index, for core to try
   * again. An original whose channel died meanwhile is the broker's again (requeued): done here.
   */
  async #publishThenAck(
    entries: readonly { readonly index: number; readonly delivery: DeliveryHandle }[],
    publications: readonly Publication[],
    fallback: (channel: Channel, message: ConsumeMessage) => void,
    options: { readonly release?: boolean; readonly onFailure?: () => void } = {},
  ): Promise<BatchResult | undefined> {
    if (publications.length === 0) return undefined;
    const results = await Promise.allSettled(
      publications.map((publication) => this.context.publisher.publish([publication])),
    );
    const failed: { index: number; error: unknown }[] = [];
    results.forEach((result, position) => {
      const entry = entries[position];
      if (entry === undefined) return;
      const { delivery } = entry;
      const live = delivery.channel === this.#channel && !delivery.settled;
      if (!live) this.#claim(delivery, options.release === true && result.status === 'rejected');
      else if (result.status === 'fulfilled')
        this.#settle(delivery, (channel) => channel.ack(delivery.message));
      else if (!isRetryable(result.reason))
        this.#settle(delivery, (channel) => fallback(channel, delivery.message));
      else failed.push({ index: entry.index, error: result.reason });
    });
    if (failed.length === 0) return undefined;
    options.onFailure?.();
    return { failed };
  }

  /**
   * The delivery behind a handle when it is still ours to settle on the broker. A handle from a
   * channel that died is settled here and then (its handler finished: the credit it held is free),
   * `undefined` is returned: the broker already requeued the message. A released one is marked so
   * its next delivery to this session doesn't count the return.
   */
  #claim(handle: unknown, release = false): DeliveryHandle | undefined {
    const delivery = handle as DeliveryHandle;
    if (delivery?.session !== this || delivery.settled) return undefined;
    if (delivery.channel === this.#channel) return delivery;
    delivery.settled = true;
    this.#held = Math.max(0, this.#held - 1);
    if (release) this.#markUncounted(delivery.message);
    this.#grow();
    return undefined;
  }

  #settle(delivery: DeliveryHandle, action: (channel: Channel) => void): void {
    tryOn(delivery.channel, action);
    this.#settled(delivery);
  }

  /** Bookkeeping of a delivery whose settle frame was just written. */
  #settled(delivery: DeliveryHandle): void {
    delivery.settled = true;
    this.#outstanding = Math.max(0, this.#outstanding - 1);
    this.#held = Math.max(0, this.#held - 1);
    if (this.#closed && this.#outstanding === 0) void this.#closeChannel(delivery.channel);
    else if (delivery.epoch !== this.#epoch && delivery.channel === this.#channel) {
      // Counted in `#granted` by the resume, for a consumer that is gone: credit for a new one.
      this.#granted = Math.max(0, this.#granted - 1);
      this.#grow();
    }
  }

  #markUncounted(message: ConsumeMessage): void {
    const id = messageId(message);
    this.#uncountedReturns.set(id, (this.#uncountedReturns.get(id) ?? 0) + 1);
    if (this.#uncountedReturns.size > UNCOUNTED_RETURNS_LIMIT) {
      const oldest = this.#uncountedReturns.keys().next().value;
      if (oldest !== undefined) this.#uncountedReturns.delete(oldest);
    }
  }

  /** A delivery's attempt less the returns this session knows were not attempts; `take` uses the marks up. */
  #compensated(received: ReceivedMessage, take: boolean): number {
    const uncounted = this.#uncountedReturns.get(received.id) ?? 0;
    if (take && uncounted > 0) this.#uncountedReturns.delete(received.id);
    return Math.max(1, received.attempt - uncounted);
  }

  #buffered(): number {
    return this.#buffer.length - this.#head;
  }

  #take(maxMessages: number): ReceivedMessage[] {
    const taken: ReceivedMessage[] = [];
    while (taken.length < maxMessages && this.#head < this.#buffer.length) {
      const entry = this.#buffer[this.#head];
      this.#buffer[this.#head] = undefined as unknown as Buffered;
      this.#head++;
      if (entry === undefined || entry.channel !== this.#channel) continue;
      const handle: DeliveryHandle = {
        session: this,
        channel: entry.channel,
        message: entry.message,
        settled: false,
        epoch: this.#epoch,
      };
      const received = toReceivedMessage(entry.message, handle);
      const attempt = this.#compensated(received, true);
      // A copy only when a return is taken off the count: most deliveries keep the object as built.
      taken.push(attempt === received.attempt ? received : { ...received, attempt });
      this.#outstanding++;
      this.#held++;
    }
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    return taken;
  }

  async #open(): Promise<void> {
    const connection = await this.context.connection.get();
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => this.#onChannelClosed(channel));
    if (this.#closed) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.#channel = channel;
    this.#outstanding = 0;
    this.#consumerTags = [];
    this.#granted = 0;
    this.#consuming = true;
    this.#stopping = undefined;
    try {
      this.#grow();
      await this.#growing;
    } catch (error) {
      if (this.#channel === channel) this.#channel = undefined;
      await channel.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Grants the broker the credit core can use: `maxOutstanding` less what core still holds from
   * dead channels, less what this channel's consumers were already granted. One consumer per
   * grant, since a prefetch can't be raised for a consumer that exists.
   */
  #grow(): void {
    if (this.#growing !== undefined || this.#closed || !this.#consuming) return;
    const channel = this.#channel;
    if (channel === undefined) return;
    const stale = this.#held - this.#outstanding;
    const credit = this.maxOutstanding - stale - this.#granted;
    if (credit < 1) return;
    this.#granted += credit;
    this.#growing = (async () => {
      await channel.prefetch(credit, false);
      const { consumerTag } = await channel.consume(
        this.#queue,
        (message) => this.#onDelivery(channel, message),
        { noAck: false },
      );
      if (this.#channel === channel) this.#consumerTags.push(consumerTag);
    })().finally(() => {
      this.#growing = undefined;
      // Credit freed while this consumer was being set up.
      if (this.#channel === channel) this.#grow();
    });
    // A failure closes the channel (and #onChannelClosed reopens), or reaches #open's caller.
    this.#growing.catch(() => undefined);
  }

  #onDelivery(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): start over, which re-declares it.
      void channel.close().catch(() => undefined);
      return;
    }
    if (channel !== this.#channel) {
      tryOn(channel, (open) => open.nack(message, false, true));
      return;
    }
    // Also while closing: deliveries that crossed the cancel are released with the buffer.
    this.#buffer.push({ channel, message });
    if (!this.#closed) for (const wake of [...this.#wakeReceivers]) wake();
  }

  #onChannelClosed(channel: Channel): void {
    if (this.#channel !== channel) return;
    // The broker requeues every unacked delivery of this channel. Buffered ones reached no
    // handler: their return is not an attempt. Handed-out ones stay held until core settles them.
    for (let index = this.#head; index < this.#buffer.length; index++) {
      const entry = this.#buffer[index];
      if (entry !== undefined && entry.channel === channel) this.#markUncounted(entry.message);
    }
    this.#channel = undefined;
    this.#consumerTags = [];
    this.#granted = 0;
    this.#buffer = [];
    this.#head = 0;
    this.#outstanding = 0;
    if (this.#started && !this.#closed) this.#reopen();
  }

  #reopen(): void {
    this.#reopening ??= (async () => {
      for (let attempt = 1; !this.#closed; attempt++) {
        try {
          await this.context.ensureSubscription(this.spec);
          await this.#open();
          return;
        } catch (error) {
          // Deleted through this driver (deleteSubscription): not re-declared; receives say so.
          if (OmnibusError.isInstance(error) && error.code === 'NotFound') {
            this.#deleted = error;
            for (const wake of [...this.#wakeReceivers]) wake();
            return;
          }
          const delay = retryDelay(
            {
              initialDelayMs: this.context.reconnectInitialDelayMs,
              maxDelayMs: this.context.reconnectMaxDelayMs,
            },
            attempt,
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    })().finally(() => {
      this.#reopening = undefined;
    });
  }

  async #closeChannel(channel: Channel): Promise<void> {
    while (this.#releasing.size > 0) await Promise.allSettled([...this.#releasing]);
    if (this.#channel === channel) this.#channel = undefined;
    await channel.close().catch(() => undefined);
  }
}

/** amqplib's consumer callbacks by tag (not public API; absent in another version, then nothing is patched). */
function consumerTable(
  channel: Channel,
): Map<string, (message: ConsumeMessage | null) => void> | undefined {
  const table = (channel as unknown as { consumers?: unknown }).consumers;
  return table instanceof Map ? table : undefined;
}

/** Runs a settle on a channel that may have closed meanwhile; the broker then requeues anyway. */
function tagOf(delivery: DeliveryHandle): number {
  return delivery.message.fields.deliveryTag;
}

function tryOn(channel: Channel, action: (channel: Channel) => void): void {
  try {
    action(channel);
  } catch {
    // Closed or closing: the delivery goes back to the queue with the channel.
  }
}
