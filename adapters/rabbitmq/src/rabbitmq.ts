// The RabbitMQ driver's factory: options, and the roles (connections, topology, publisher, subscriptions, DLQ admin) composed.
import {
  ClosedError,
  DEFAULT_OPERATION_TIMEOUT_MS,
  OmnibusError,
  subscriptionNotFound,
} from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterCursor,
  DriverStats,
  DriverSubscription,
  DriverV2,
  OutgoingMessage,
  StoredDeadLetter,
  SubscribeOptions,
  SubscriptionRef,
  SubscriptionSpec,
  TopicSpec,
} from '@omnibus/core/driver';
import type { ChannelModel } from 'amqplib';
import { bounded, CALL_SHARE } from './bounded.js';
import { deadLetterExchange, deadLetterQueue, subscriptionQueue } from './broker-names.js';
import { CAPABILITIES } from './capabilities.js';
import { classifyError } from './classify-error.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import { DeadLetterAdmin } from './dead-letter-admin.js';
import { openDeadLetterCursor } from './dead-letter-cursor.js';
import { DelayQueues } from './delay-queues.js';
import { openConnection } from './open-connection.js';
import { PendingDeadLetters } from './pending-dead-letters.js';
import { RabbitMQSubscription } from './rabbitmq-subscription.js';
import { ReconnectingConnection } from './reconnecting-connection.js';
import { TopicPublisher } from './topic-publisher.js';
import { Topology } from './topology.js';

/** Options of {@link rabbitmq}. */
export interface RabbitMQOptions {
  /**
   * Broker URL: `amqp://user:pass@host:port[/vhost]`, or `amqps://…` for TLS. amqplib's query
   * parameters (`heartbeat`, `frameMax`, `channelMax`, `locale`) pass through.
   * @default 'amqp://guest:guest@127.0.0.1:5672'
   */
  url?: string | URL;
  /** Socket and TLS options handed to amqplib (`ca`, `cert`, `key`, `servername`, `timeout`…). */
  socketOptions?: Record<string, unknown>;
  /**
   * Heartbeat interval in seconds when the URL sets none: how fast a silently dead TCP connection
   * is noticed (after about two missed beats) and reconnected.
   * @default 10
   */
  heartbeatSeconds?: number;
  /** Backoff between reconnect attempts after the connection was lost. */
  reconnect?: {
    /** @default 100 */
    initialDelayMs?: number;
    /** @default 5000 */
    maxDelayMs?: number;
  };
  /**
   * Upper bound, in ms, on every single call against the broker: opening a connection (TCP, TLS,
   * AMQP handshake), waiting for a lost connection to come back, waiting for a publisher confirm.
   * Past it the call rejects: `Unavailable` (retryable) when the broker can't be reached, `Config`
   * (not retryable) when the URL points at something that doesn't speak AMQP 0-9-1. Core stops
   * retrying once this much time has passed since the user's call began. Also the URL parameter
   * `?operationTimeoutMs=`. A whole number from 100 to 3600000, else `Config`.
   * @default 15000
   */
  operationTimeoutMs?: number;
  /** @deprecated the old name of {@link operationTimeoutMs}, still honoured when that is absent. */
  unavailableTimeoutMs?: number;
  /**
   * Significant digits kept when a delay is rounded up to its delay-queue bucket (one queue per
   * bucket, because per-message TTL only expires at the head of a queue). 2 means at most 90
   * queues per decade of delay and a message waiting at most 10 % longer than asked.
   * @default 2
   */
  delayPrecisionDigits?: number;
  /**
   * Name shown for the adapter's connections in the management UI (`… (publish)`, `… (consume)`).
   * @default 'omnibus'
   */
  connectionName?: string;
}

/** `bus.native` for RabbitMQ: the live amqplib connections (replaced after a reconnect). */
export interface RabbitMQNative {
  /** Connection used for publishing, declarations and DLQ operations; `undefined` while down. */
  readonly publishConnection: ChannelModel | undefined;
  /** Connection carrying the consumers; kept apart so publisher flow control never stalls acks. */
  readonly consumeConnection: ChannelModel | undefined;
}

const NAME = 'rabbitmq';

/** The range core's `readOperationTimeout` accepts in a URL, the same for the option. */
function checkOperationTimeout(ms: number): number {
  if (!(Number.isInteger(ms) && ms >= 100 && ms <= 3_600_000)) {
    throw new OmnibusError(
      'Config',
      `operationTimeoutMs must be a whole number of milliseconds from 100 to 3600000, got ${String(ms)}`,
      { driver: NAME },
    );
  }
  return ms;
}

/**
 * A RabbitMQ driver for `connect()`: topics are fanout exchanges, subscriptions durable quorum
 * queues bound to them, each with a DLQ fed by a dead-letter exchange. Connects lazily on the first
 * call, reconnects by itself, and restores its consumers and topology after an outage.
 *
 * ```ts
 * import { connect } from '@omnibus/core';
 * import { rabbitmq } from '@omnibus/rabbitmq';
 * const bus = await connect(rabbitmq({ url: 'amqp://guest:guest@localhost:5672' }));
 * ```
 */
export function rabbitmq(options: RabbitMQOptions = {}): DriverV2 & {
  /** The bound in force, in ms: {@link RabbitMQOptions.operationTimeoutMs} or its default. */
  readonly operationTimeoutMs: number;
} {
  const connectionName = options.connectionName ?? 'omnibus';
  const operationTimeoutMs = checkOperationTimeout(
    options.operationTimeoutMs ?? options.unavailableTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
  );
  // One driver call gets most of the bound, so its own, more precise error (Config for a wrong
  // endpoint, Unavailable for an outage) reaches the user before core's deadline cuts it off.
  const callTimeoutMs = Math.max(50, Math.floor(operationTimeoutMs * CALL_SHARE));
  const reconnect = {
    initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000,
    operationTimeoutMs: callTimeoutMs,
  };
  const url = brokerUrl(options.url, options.heartbeatSeconds ?? 10);
  const open =
    (role: string) =>
    (firstConnect: boolean): Promise<ChannelModel> =>
      openConnection({
        url,
        socketOptions: {
          ...options.socketOptions,
          clientProperties: { connection_name: `${connectionName} (${role})` },
        },
        timeoutMs: callTimeoutMs,
        diagnose: firstConnect,
        driverName: NAME,
      });

  // Two connections: publisher flow control on one must never stall the acks on the other.
  const publishConnection = new ReconnectingConnection(open('publish'), reconnect, NAME);
  const consumeConnection = new ReconnectingConnection(open('consume'), reconnect, NAME);
  const publisher = new ConfirmPublisher(publishConnection, NAME, callTimeoutMs);
  const topology = new Topology(publishConnection, callTimeoutMs, NAME);
  const delayQueues = new DelayQueues(
    topology,
    Math.max(1, Math.floor(options.delayPrecisionDigits ?? 2)),
  );
  const topics = new TopicPublisher(topology, delayQueues, publisher);
  const pendingDeadLetters = new PendingDeadLetters();
  const deadLetters = new DeadLetterAdmin(topology, publisher, pendingDeadLetters, NAME);
  const subscriptions = new Set<RabbitMQSubscription>();
  /**
   * Subscription queues deleted through this driver and not declared since: its own consumers of
   * them, which re-declare their queue when the broker cancels them, must not bring them back.
   */
  const deletedQueues = new Set<string>();
  let closed = false;

  // Declarations don't outlive the connection they were made on (a restarted broker may have lost them).
  const forgetTopology = () => {
    topology.forget();
    delayQueues.forget();
  };
  publishConnection.onLost(forgetTopology);
  publisher.onChannelClosed((error) => {
    if (error !== undefined) forgetTopology();
  });

  const assertOpen = () => {
    if (closed) throw new ClosedError('the RabbitMQ driver is closed', { driver: NAME });
  };

  const native: RabbitMQNative = {
    get publishConnection() {
      return publishConnection.current;
    },
    get consumeConnection() {
      return consumeConnection.current;
    },
  };

  return {
    specificationVersion: 'v2',
    name: NAME,
    capabilities: CAPABILITIES,
    native,
    operationTimeoutMs,

    async ensureTopic(spec) {
      assertOpen();
      await topology.ensureTopic(spec.topic);
    },

    async ensureSubscription(spec) {
      assertOpen();
      deletedQueues.delete(subscriptionQueue(spec));
      await topology.ensureSubscription(spec);
    },

    async publish(
      topic: string,
      messages: readonly OutgoingMessage[],
    ): Promise<BatchResult | undefined> {
      assertOpen();
      return topics.publish(topic, messages);
    },

    async subscribe(
      spec: SubscriptionSpec,
      subscribeOptions: SubscribeOptions,
    ): Promise<DriverSubscription> {
      assertOpen();
      if ((await topology.queueCount(subscriptionQueue(spec))) === undefined)
        throw subscriptionNotFound(spec, NAME);
      const subscription = new RabbitMQSubscription(
        {
          connection: consumeConnection,
          publisher,
          delayQueues,
          pendingDeadLetters,
          ensureSubscription: async (again) => {
            if (deletedQueues.has(subscriptionQueue(again)))
              throw subscriptionNotFound(again, NAME);
            await topology.ensureSubscription(again);
          },
          reconnectInitialDelayMs: reconnect.initialDelayMs,
          reconnectMaxDelayMs: reconnect.maxDelayMs,
          onClose: (done) => subscriptions.delete(done),
        },
        spec,
        Math.max(1, subscribeOptions.maxOutstanding),
      );
      await bounded(subscription.start(), callTimeoutMs, NAME, () => void subscription.destroy());
      subscriptions.add(subscription);
      return subscription;
    },

    async stats(ref: SubscriptionRef): Promise<DriverStats> {
      assertOpen();
      const waiting = await topology.queueCount(subscriptionQueue(ref));
      if (waiting === undefined) throw subscriptionNotFound(ref, NAME);
      // No DLQ (deadLetter: false) reads as none dead-lettered.
      const deadLettered = (await topology.queueCount(deadLetterQueue(ref))) ?? 0;
      // In flight is not told: AMQP exposes no unacked count, and this process only knows its own deliveries.
      return { waiting, inFlight: undefined, deadLettered };
    },

    async peekDeadLetters(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]> {
      assertOpen();
      return deadLetters.peek(ref, limit);
    },

    async countDeadLetters(ref: SubscriptionRef): Promise<number> {
      assertOpen();
      return deadLetters.count(ref);
    },

    async redriveDeadLetters(ref: SubscriptionRef, limit: number): Promise<number> {
      assertOpen();
      return deadLetters.redrive(ref, limit);
    },

    async purgeDeadLetters(ref: SubscriptionRef): Promise<number | undefined> {
      assertOpen();
      return deadLetters.purge(ref);
    },

    async openDeadLetters(ref: SubscriptionRef): Promise<DeadLetterCursor> {
      assertOpen();
      return openDeadLetterCursor(
        {
          topology,
          publisher,
          count: (of) => deadLetters.count(of),
          callTimeoutMs,
          driverName: NAME,
        },
        ref,
      );
    },

    async deleteSubscription(ref: SubscriptionRef): Promise<boolean> {
      assertOpen();
      const queue = subscriptionQueue(ref);
      const dlq = deadLetterQueue(ref);
      // queue.delete answers delete-ok for a queue that doesn't exist: passive declares tell.
      const existed =
        (await topology.queueCount(queue)) !== undefined ||
        (await topology.queueCount(dlq)) !== undefined;
      deletedQueues.add(queue);
      await pendingDeadLetters.settled(dlq);
      const buckets = delayQueues.declaredFor({ subscription: ref });
      // The queue first: nothing is dead-lettered into the DLQ after the DLQ is gone.
      for (const name of [queue, dlq, ...buckets]) await topology.deleteQueue(name);
      delayQueues.deleted(buckets);
      return existed;
    },

    async deleteTopic(spec: TopicSpec): Promise<boolean> {
      assertOpen();
      const existed = await topology.exchangeExists(spec.topic);
      await topology.deleteExchange(spec.topic);
      // The topic's dead-letter exchange serves its subscriptions' DLQs: deleted only once no DLQ is bound to it.
      await topology.deleteExchange(deadLetterExchange(spec.topic), true);
      const buckets = delayQueues.declaredFor({ topic: spec.topic });
      for (const name of buckets) await topology.deleteQueue(name);
      delayQueues.deleted(buckets);
      return existed;
    },
    classifyError,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...subscriptions].map((subscription) => subscription.destroy()));
      subscriptions.clear();
      await publisher.close();
      await topology.close();
      await Promise.allSettled([publishConnection.close(), consumeConnection.close()]);
    },
  };
}

/** Adds the default heartbeat unless the URL chose one; the URL stays a string so amqplib parses the vhost. */
function brokerUrl(url: string | URL | undefined, heartbeatSeconds: number): string {
  const parsed = new URL(url === undefined ? 'amqp://guest:guest@127.0.0.1:5672' : String(url));
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new OmnibusError(
      'Config',
      `RabbitMQ URLs start with amqp:// or amqps://, got "${parsed.protocol}//…"`,
      { driver: NAME },
    );
  }
  if (!parsed.searchParams.has('heartbeat'))
    parsed.searchParams.set('heartbeat', String(heartbeatSeconds));
  return parsed.toString();
}
