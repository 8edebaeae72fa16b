// Declares the topology (topic exchanges, subscription queues, DLQs, delay buckets) on channels of its own, and reads queue counts.
import { ClosedError, OmnibusError } from '@omnibus/core';
import type { SubscriptionSpec } from '@omnibus/core/driver';
import type { Channel } from 'amqplib';
import { bounded } from './bounded.js';
import {
  deadLetterExchange,
  deadLetterQueue,
  deadLetterRoutingKey,
  subscriptionQueue,
} from './broker-names.js';
import { classifyError, describeMismatch, isPreconditionFailed } from './classify-error.js';
import { deadLetterQueueArguments, subscriptionQueueArguments } from './queue-arguments.js';
import type { ReconnectingConnection } from './reconnecting-connection.js';

/** Idle declaration channels kept for reuse. */
const IDLE_CHANNELS = 4;

/**
 * Declarations and queue counts, each on a channel of its own from a small pool: a failed
 * declaration closes its channel (RabbitMQ's way of reporting 404 and 406), which must not take
 * concurrent calls down with it. Remembers which topic exchanges exist on the current connection,
 * so a publish declares its topic once.
 */
export class Topology {
  readonly #idleChannels: Channel[] = [];
  readonly #closedChannels = new WeakSet<Channel>();
  /** Topic exchanges known to exist on the current connection. */
  readonly #knownExchanges = new Set<string>();
  #closed = false;

  constructor(
    private readonly connection: ReconnectingConnection,
    /** Bound on one call (80 % of operationTimeoutMs). */
    private readonly callTimeoutMs: number,
    private readonly driverName: string,
  ) {}

  /** Runs `work` on a pooled channel, within the call bound. */
  async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    if (this.#closed)
      throw new ClosedError('the RabbitMQ driver is closed', { driver: this.driverName });
    let channel = this.#idleChannels.pop();
    while (channel !== undefined && this.#closedChannels.has(channel))
      channel = this.#idleChannels.pop();
    if (channel === undefined) {
      const connection = await this.connection.get();
      const fresh = await bounded(connection.createChannel(), this.callTimeoutMs, this.driverName);
      fresh.on('error', () => undefined);
      fresh.on('close', () => this.#closedChannels.add(fresh));
      channel = fresh;
    }
    const open = channel;
    try {
      // A broker that stopped answering (a half-dead connection) would hold the call until the
      // heartbeat notices; the channel is closed instead, so a late reply can't act on anything.
      return await bounded(work(channel), this.callTimeoutMs, this.driverName, () => {
        this.#closedChannels.add(open);
        void open.close().catch(() => undefined);
      });
    } finally {
      if (!this.#closedChannels.has(channel)) {
        if (this.#idleChannels.length < IDLE_CHANNELS && !this.#closed)
          this.#idleChannels.push(channel);
        else void channel.close().catch(() => undefined);
      }
    }
  }

  /** Whether the topic's exchange was declared on the current connection. */
  knowsTopic(topic: string): boolean {
    return this.#knownExchanges.has(topic);
  }

  /** Forgets what was declared (the connection or the confirm channel was lost, or a publish met a 404). */
  forget(topic?: string): void {
    if (topic === undefined) this.#knownExchanges.clear();
    else this.#knownExchanges.delete(topic);
  }

  /** The topic's fanout exchange. */
  async ensureTopic(topic: string): Promise<void> {
    await this.withChannel((channel) => this.#exchange(channel, topic, 'fanout'));
    this.#knownExchanges.add(topic);
  }

  /**
   * The topic, the subscription queue and, with `deadLetter`, the topic's dead-letter exchange and
   * the DLQ bound to it. The queue is bound last: nothing reaches it before its dead-letter route exists.
   */
  async ensureSubscription(spec: SubscriptionSpec): Promise<void> {
    const queue = subscriptionQueue(spec);
    await this.withChannel(async (channel) => {
      await this.#exchange(channel, spec.topic, 'fanout');
      if (spec.deadLetter) await this.#exchange(channel, deadLetterExchange(spec.topic), 'direct');
      await this.#declare('queue', queue, () =>
        channel.assertQueue(queue, { durable: true, arguments: subscriptionQueueArguments(spec) }),
      );
      if (spec.deadLetter) {
        const dlq = deadLetterQueue(spec);
        await this.#declare('queue', dlq, () =>
          channel.assertQueue(dlq, { durable: true, arguments: deadLetterQueueArguments() }),
        );
        await channel.bindQueue(
          dlq,
          deadLetterExchange(spec.topic),
          deadLetterRoutingKey(spec, spec.maxAttempts),
        );
      }
      await channel.bindQueue(queue, spec.topic, '');
    });
    this.#knownExchanges.add(spec.topic);
  }

  /** A durable queue with `args` (a delay bucket). */
  async ensureQueue(queue: string, args: Record<string, unknown>): Promise<void> {
    await this.withChannel((channel) =>
      this.#declare('queue', queue, () =>
        channel.assertQueue(queue, { durable: true, arguments: args }),
      ),
    );
  }

  /**
   * A channel of the caller's own on the publish connection (the DLQ cursor's: what it holds
   * unacked goes back to the queue when it closes). The caller closes it.
   */
  async openChannel(): Promise<Channel> {
    if (this.#closed)
      throw new ClosedError('the RabbitMQ driver is closed', { driver: this.driverName });
    const connection = await this.connection.get();
    const channel = await bounded(connection.createChannel(), this.callTimeoutMs, this.driverName);
    channel.on('error', () => undefined);
    return channel;
  }

  /** Whether an exchange exists: a passive declare, on a pooled channel a 404 closes and the pool drops. */
  async exchangeExists(exchange: string): Promise<boolean> {
    try {
      await this.withChannel((channel) => channel.checkExchange(exchange));
      return true;
    } catch (error) {
      if (classifyError(error)?.code === 'NotFound') return false;
      throw error;
    }
  }

  /** `queue.delete`, unconditionally (RabbitMQ answers delete-ok for a queue that doesn't exist). */
  async deleteQueue(queue: string): Promise<void> {
    await this.withChannel((channel) => channel.deleteQueue(queue));
  }

  /**
   * `exchange.delete`; with `ifUnused`, only while no queue or exchange is bound to it (a refusal,
   * PRECONDITION_FAILED, closes the pooled channel and is not an error here).
   */
  async deleteExchange(exchange: string, ifUnused = false): Promise<void> {
    try {
      await this.withChannel((channel) => channel.deleteExchange(exchange, { ifUnused }));
    } catch (error) {
      if (!(ifUnused && isPreconditionFailed(error))) throw error;
    }
    this.#knownExchanges.delete(exchange);
  }

  /** Ready-message count of a queue, or `undefined` if it doesn't exist. */
  async queueCount(queue: string): Promise<number | undefined> {
    try {
      return (await this.withChannel((channel) => channel.checkQueue(queue))).messageCount;
    } catch (error) {
      if (classifyError(error)?.code === 'NotFound') return undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#idleChannels.splice(0).map((channel) => channel.close()));
  }

  async #exchange(channel: Channel, exchange: string, type: 'fanout' | 'direct'): Promise<void> {
    await this.#declare('exchange', exchange, () =>
      channel.assertExchange(exchange, type, { durable: true }),
    );
  }

  /** Runs a declaration; a PRECONDITION_FAILED becomes `AlreadyExists` naming the Omnibus setting. */
  async #declare<T>(
    kind: 'queue' | 'exchange',
    name: string,
    action: () => Promise<T>,
  ): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (isPreconditionFailed(error)) {
        throw new OmnibusError('AlreadyExists', describeMismatch(kind, name, error), {
          driver: this.driverName,
          cause: error,
        });
      }
      throw error;
    }
  }
}
