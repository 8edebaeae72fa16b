import { retryDelay } from '@omnibus/core';
import type {
  DeadLetterRequest,
  DriverSubscription,
  LeaseRequest,
  NackRequest,
  ReceivedMessage,
  ReceiveRequest,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import { HEADER, republishOptions, toReceivedMessage } from './message-mapping.js';
import type { Publication, Publisher } from './publisher.js';
import type { ReconnectingConnection } from './reconnecting-connection.js';
import { deadLetterQueue, subscriptionQueue } from './topology.js';

/** What a session needs from the driver that opened it. */
export interface SessionContext {
  readonly connection: ReconnectingConnection;
  readonly publisher: Publisher;
  /** Re-declares the subscription's topology (after a reconnect, or if someone deleted it). */
  ensureSubscription(spec: SubscriptionSpec): Promise<void>;
  /** Declares (if needed) the subscription's delay queue for `delayMs` and returns its name. */
  subscriptionDelayQueue(spec: SubscriptionSpec, delayMs: number): Promise<string>;
  /** Drops a cached delay-queue declaration after a publish to it failed. */
  forgetDelayQueue(name: string): void;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
}

/** A delivery's settle token: valid only while the channel it came on is the session's current one. */
interface DeliveryHandle {
  readonly session: ConsumerSession;
  readonly channel: Channel;
  readonly message: ConsumeMessage;
}

interface Buffered {
  readonly channel: Channel;
  readonly message: ConsumeMessage;
}

/**
 * One `basic.consume` on the subscription queue with `basic.qos(maxOutstanding)`, so the broker
 * never pushes more than core can hold; deliveries wait in a local buffer that {@link receive}
 * drains. The session survives its channel: when the channel or the connection closes, the broker
 * requeues every unacked delivery, the session drops what it buffered, marks handed-out handles
 * stale (settling them is a no-op: they will be redelivered) and consumes again once reconnected.
 */
export class ConsumerSession implements DriverSubscription {
  readonly #queue: string;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  /** Deliveries not yet handed out; a head index instead of `shift()` keeps taking O(1). */
  #buffer: Buffered[] = [];
  #head = 0;
  /** Handed out on the current channel and not settled yet. */
  #outstanding = 0;
  #wakeReceivers = new Set<() => void>();
  #closed = false;
  /** Set once the first consume succeeded; only then does a lost channel start a reconnect loop. */
  #started = false;
  #reopening: Promise<void> | undefined;

  constructor(
    private readonly context: SessionContext,
    readonly spec: SubscriptionSpec,
    private readonly maxOutstanding: number,
  ) {
    this.#queue = subscriptionQueue(spec.topic, spec.subscription);
  }

  /** Deliveries handed out by this process and not settled yet (the broker's count isn't exposed over AMQP). */
  get outstanding(): number {
    return this.#outstanding;
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
    for (;;) {
      if (signal.aborted || this.#closed) return [];
      if (this.#buffered() > 0) return this.#take(request.maxMessages);
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

  async ack(handles: readonly unknown[]): Promise<void> {
    for (const handle of handles) {
      const delivery = this.#live(handle);
      if (delivery === undefined) continue;
      this.#settle(delivery, (channel) => channel.ack(delivery.message));
    }
  }

  async nack(requests: readonly NackRequest[]): Promise<void> {
    const delayed: { delivery: DeliveryHandle; request: NackRequest }[] = [];
    for (const request of requests) {
      const delivery = this.#live(request.handle);
      if (delivery === undefined) continue;
      if (request.delayMs <= 0)
        this.#settle(delivery, (channel) => channel.nack(delivery.message, false, true));
      else delayed.push({ delivery, request });
    }
    if (delayed.length === 0) return;
    // A requeue can't wait, so a delayed retry is a copy parked in this subscription's delay queue
    // (which dead-letters back to this subscription's queue only); the original is acked once the
    // copy is confirmed. The copy restarts RabbitMQ's delivery count, so it carries the attempts.
    const publications: Publication[] = [];
    const queues: string[] = [];
    for (const { delivery, request } of delayed) {
      const queue = await this.context.subscriptionDelayQueue(this.spec, request.delayMs);
      queues.push(queue);
      const options = republishOptions(delivery.message, { [HEADER.attempts]: request.attempt });
      options.expiration = String(Math.ceil(request.delayMs));
      options.mandatory = true;
      publications.push({
        exchange: '',
        routingKey: queue,
        content: delivery.message.content,
        options,
      });
    }
    await this.#publishThenAck(
      delayed.map(({ delivery }) => delivery),
      publications,
      () => {
        for (const queue of queues) this.context.forgetDelayQueue(queue);
      },
    );
  }

  /** Nothing to do: RabbitMQ holds an unacked delivery until it is settled or its channel closes. */
  async extendLease(_requests: readonly LeaseRequest[]): Promise<void> {}

  async deadLetter(requests: readonly DeadLetterRequest[]): Promise<void> {
    const deliveries: DeliveryHandle[] = [];
    const publications: Publication[] = [];
    const queue = deadLetterQueue(this.spec.topic, this.spec.subscription);
    const now = Date.now();
    for (const request of requests) {
      const delivery = this.#live(request.handle);
      if (delivery === undefined) continue;
      deliveries.push(delivery);
      const options = republishOptions(delivery.message, {
        [HEADER.deadLetterReason]: request.reason,
        [HEADER.deadLetterAttempts]: request.message.attempt,
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
      });
    }
    await this.#publishThenAck(deliveries, publications);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#wakeReceivers]) wake();
    const channel = this.#channel;
    if (channel === undefined) return;
    if (this.#consumerTag !== undefined)
      await channel.cancel(this.#consumerTag).catch(() => undefined);
    // Release what was buffered but never handed out, for immediate redelivery to other consumers.
    for (let index = this.#head; index < this.#buffer.length; index++) {
      const entry = this.#buffer[index];
      if (entry !== undefined && entry.channel === channel)
        tryOn(channel, (open) => open.nack(entry.message, false, true));
    }
    this.#buffer = [];
    this.#head = 0;
    // Handed-out deliveries stay leased until core settles them; the channel closes after the last.
    if (this.#outstanding === 0) await this.#closeChannel(channel);
  }

  /** Closes the channel at once, releasing everything unacked (driver shutdown). */
  async destroy(): Promise<void> {
    await this.close();
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel !== undefined) await channel.close().catch(() => undefined);
  }

  async #publishThenAck(
    deliveries: readonly DeliveryHandle[],
    publications: readonly Publication[],
    onFailure?: () => void,
  ): Promise<void> {
    if (publications.length === 0) return;
    const results = await Promise.allSettled(
      publications.map((publication) => this.context.publisher.publish([publication])),
    );
    let failure: unknown;
    results.forEach((result, index) => {
      const delivery = deliveries[index];
      if (delivery === undefined) return;
      if (result.status === 'fulfilled') {
        if (this.#live(delivery) !== undefined)
          this.#settle(delivery, (channel) => channel.ack(delivery.message));
      } else failure ??= result.reason;
    });
    if (failure !== undefined) {
      onFailure?.();
      throw failure;
    }
  }

  #live(handle: unknown): DeliveryHandle | undefined {
    const delivery = handle as DeliveryHandle;
    if (delivery?.session !== this || delivery.channel !== this.#channel) return undefined;
    return delivery;
  }

  #settle(delivery: DeliveryHandle, action: (channel: Channel) => void): void {
    tryOn(delivery.channel, action);
    this.#outstanding = Math.max(0, this.#outstanding - 1);
    if (this.#closed && this.#outstanding === 0) void this.#closeChannel(delivery.channel);
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
      };
      taken.push(toReceivedMessage(entry.message, handle));
      this.#outstanding++;
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
    try {
      await channel.prefetch(this.maxOutstanding, false);
      if (this.#closed) {
        await channel.close().catch(() => undefined);
        return;
      }
      this.#channel = channel;
      this.#outstanding = 0;
      const { consumerTag } = await channel.consume(
        this.#queue,
        (message) => this.#onDelivery(channel, message),
        { noAck: false },
      );
      this.#consumerTag = consumerTag;
    } catch (error) {
      if (this.#channel === channel) this.#channel = undefined;
      await channel.close().catch(() => undefined);
      throw error;
    }
  }

  #onDelivery(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): start over, which re-declares it.
      void channel.close().catch(() => undefined);
      return;
    }
    if (this.#closed || channel !== this.#channel) {
      tryOn(channel, (open) => open.nack(message, false, true));
      return;
    }
    this.#buffer.push({ channel, message });
    for (const wake of [...this.#wakeReceivers]) wake();
  }

  #onChannelClosed(channel: Channel): void {
    if (this.#channel !== channel) return;
    // The broker requeues every unacked delivery of this channel: forget them here.
    this.#channel = undefined;
    this.#consumerTag = undefined;
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
        } catch {
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
    if (this.#channel === channel) this.#channel = undefined;
    await channel.close().catch(() => undefined);
  }
}

/** Runs a settle on a channel that may have closed meanwhile; the broker then requeues anyway. */
function tryOn(channel: Channel, action: (channel: Channel) => void): void {
  try {
    action(channel);
  } catch {
    // Closed or closing: the delivery goes back to the queue with the channel.
  }
}
