// The RabbitMQ driver: options, capabilities, topology declarations, publish and the DLQ calls.
import { ClosedError, DEFAULT_OPERATION_TIMEOUT_MS, OmnibusError } from '@omnibus/core';
import type {
  Capabilities,
  DriverStats,
  DriverSubscription,
  DriverV1,
  OutgoingMessage,
  StoredDeadLetter,
  SubscribeOptions,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { classifyError, describeMismatch, isPreconditionFailed } from './classify-error.js';
import { ConsumerSession, type SessionContext } from './consumer-session.js';
import {
  publishOptions,
  republishOptions,
  toBuffer,
  toStoredDeadLetter,
} from './message-mapping.js';
import { openConnection } from './open-connection.js';
import { type Publication, Publisher } from './publisher.js';
import { ReconnectingConnection } from './reconnecting-connection.js';
import {
  DELAY_QUEUE_EXPIRY_MARGIN_MS,
  deadLetterExchange,
  deadLetterQueue,
  deadLetterQueueArguments,
  deadLetterRoutingKey,
  delayBucket,
  delayQueueArguments,
  subscriptionDelayQueue,
  subscriptionQueue,
  subscriptionQueueArguments,
  topicDelayQueue,
} from './topology.js';

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

/** Share of operationTimeoutMs one driver call may take on its own. */
const CALL_SHARE = 0.8;

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

/** Longest delay: RabbitMQ's TTLs go to 2^32−1 ms, core's timers to 2^31−1 ms. */
const MAX_DELAY_MS = 2_147_483_647;

/** RabbitMQ's `consumer_timeout` default (30 min): past it the broker closes the channel of an unacked delivery. */
const CONSUMER_TIMEOUT_MS = 1_800_000;

const CAPABILITIES: Capabilities = {
  fanout: true,
  ordering: false,
  delayedDelivery: MAX_DELAY_MS,
  nativeDeadLetter: true,
  // RabbitMQ takes up to 128 MiB (max_message_size), but Omnibus keeps the portable 256 KiB so
  // what passes here passes on every broker.
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 1000,
  stats: { waiting: true, inFlight: false, deadLettered: true },
  ackDeadline: { minMs: 1_000, maxMs: CONSUMER_TIMEOUT_MS },
  leaseExtension: 'none',
};

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
export function rabbitmq(options: RabbitMQOptions = {}): DriverV1 & {
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
  const delayDigits = Math.max(1, Math.floor(options.delayPrecisionDigits ?? 2));
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

  const publishConnection = new ReconnectingConnection(open('publish'), reconnect, NAME);
  const consumeConnection = new ReconnectingConnection(open('consume'), reconnect, NAME);
  const publisher = new Publisher(publishConnection, NAME, callTimeoutMs);
  const sessions = new Set<ConsumerSession>();
  /** Topic exchanges known to exist on the current connection. */
  const knownExchanges = new Set<string>();
  /** Delay queues declared, with when, so `x-expires` can never remove one holding messages. */
  const delayQueues = new Map<string, number>();
  const idleChannels: Channel[] = [];
  const closedChannels = new WeakSet<Channel>();
  let closed = false;

  const forgetTopology = () => {
    knownExchanges.clear();
    delayQueues.clear();
  };
  publishConnection.onLost(forgetTopology);
  publisher.onChannelClosed((error) => {
    if (error !== undefined) forgetTopology();
  });

  const assertOpen = () => {
    if (closed) throw new ClosedError('the RabbitMQ driver is closed', { driver: NAME });
  };

  /**
   * Runs `work` on a channel of its own: a failed declaration closes its channel (RabbitMQ's way
   * of reporting 404 and 406), which must not take concurrent calls down with it.
   */
  const withChannel = async <T>(work: (channel: Channel) => Promise<T>): Promise<T> => {
    assertOpen();
    let channel = idleChannels.pop();
    while (channel !== undefined && closedChannels.has(channel)) channel = idleChannels.pop();
    if (channel === undefined) {
      const connection = await publishConnection.get();
      const fresh = await bounded(connection.createChannel(), callTimeoutMs);
      fresh.on('error', () => undefined);
      fresh.on('close', () => closedChannels.add(fresh));
      channel = fresh;
    }
    const open = channel;
    try {
      // A broker that stopped answering (a half-dead connection) would hold the call until the
      // heartbeat notices; the channel is closed instead, so a late reply can't act on anything.
      return await bounded(work(channel), callTimeoutMs, () => {
        closedChannels.add(open);
        void open.close().catch(() => undefined);
      });
    } finally {
      if (!closedChannels.has(channel)) {
        if (idleChannels.length < 4 && !closed) idleChannels.push(channel);
        else void channel.close().catch(() => undefined);
      }
    }
  };

  const declare = async <T>(
    kind: 'queue' | 'exchange',
    name: string,
    action: () => Promise<T>,
  ): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (isPreconditionFailed(error)) {
        throw new OmnibusError('AlreadyExists', describeMismatch(kind, name, error), {
          driver: NAME,
          cause: error,
        });
      }
      throw error;
    }
  };

  const ensureExchange = async (channel: Channel, exchange: string, type: 'fanout' | 'direct') => {
    await declare('exchange', exchange, () =>
      channel.assertExchange(exchange, type, { durable: true }),
    );
  };

  const ensureTopic = async (topic: string): Promise<void> => {
    await withChannel((channel) => ensureExchange(channel, topic, 'fanout'));
    knownExchanges.add(topic);
  };

  const ensureSubscription = async (spec: SubscriptionSpec): Promise<void> => {
    const queue = subscriptionQueue(spec.topic, spec.subscription);
    await withChannel(async (channel) => {
      await ensureExchange(channel, spec.topic, 'fanout');
      if (spec.deadLetter) await ensureExchange(channel, deadLetterExchange(spec.topic), 'direct');
      await declare('queue', queue, () =>
        channel.assertQueue(queue, { durable: true, arguments: subscriptionQueueArguments(spec) }),
      );
      if (spec.deadLetter) {
        const dlq = deadLetterQueue(spec.topic, spec.subscription);
        await declare('queue', dlq, () =>
          channel.assertQueue(dlq, { durable: true, arguments: deadLetterQueueArguments() }),
        );
        await channel.bindQueue(
          dlq,
          deadLetterExchange(spec.topic),
          deadLetterRoutingKey(spec.topic, spec.subscription, spec.maxAttempts),
        );
      }
      // Bound last: nothing reaches the queue before its dead-letter route exists.
      await channel.bindQueue(queue, spec.topic, '');
    });
    knownExchanges.add(spec.topic);
  };

  const ensureDelayQueue = async (
    queue: string,
    bucketMs: number,
    target: { exchange: string; routingKey?: string },
  ) => {
    const declaredAt = delayQueues.get(queue);
    if (declaredAt !== undefined && Date.now() - declaredAt < DELAY_QUEUE_EXPIRY_MARGIN_MS / 2)
      return;
    await withChannel((channel) =>
      declare('queue', queue, () =>
        channel.assertQueue(queue, {
          durable: true,
          arguments: delayQueueArguments(bucketMs, target),
        }),
      ),
    );
    delayQueues.set(queue, Date.now());
  };

  /** Ready-message count of a queue, or `undefined` if it doesn't exist. */
  const queueCount = async (queue: string): Promise<number | undefined> => {
    try {
      return (await withChannel((channel) => channel.checkQueue(queue))).messageCount;
    } catch (error) {
      if (classifyError(error)?.code === 'NotFound') return undefined;
      throw error;
    }
  };

  const subscriptionNotFound = (spec: SubscriptionSpec) =>
    new OmnibusError(
      'NotFound',
      `subscription "${spec.subscription}" on topic "${spec.topic}" (queue "${subscriptionQueue(spec.topic, spec.subscription)}") does not exist`,
      { driver: NAME },
    );

  /** DLQ count, 0 when the subscription has no DLQ, NotFound when the subscription doesn't exist. */
  const deadLetterCount = async (spec: SubscriptionSpec): Promise<number> => {
    const count = await queueCount(deadLetterQueue(spec.topic, spec.subscription));
    if (count !== undefined) return count;
    if ((await queueCount(subscriptionQueue(spec.topic, spec.subscription))) === undefined)
      throw subscriptionNotFound(spec);
    return 0;
  };

  /** Takes up to `limit` DLQ messages with `basic.get`, unacked, on `channel`; oldest first. */
  const takeDeadLetters = async (
    channel: Channel,
    spec: SubscriptionSpec,
    limit: number,
  ): Promise<GetMessage[]> => {
    const messages: GetMessage[] = [];
    const dlq = deadLetterQueue(spec.topic, spec.subscription);
    while (messages.length < limit) {
      const message = await channel.get(dlq, { noAck: false });
      if (message === false) break;
      messages.push(message);
    }
    return messages;
  };

  const sessionContext: SessionContext = {
    connection: consumeConnection,
    publisher,
    ensureSubscription,
    async subscriptionDelayQueue(spec, delayMs) {
      const bucket = delayBucket(delayMs, delayDigits);
      const queue = subscriptionDelayQueue(spec.topic, spec.subscription, bucket);
      await ensureDelayQueue(queue, bucket, {
        exchange: '',
        routingKey: subscriptionQueue(spec.topic, spec.subscription),
      });
      return queue;
    },
    forgetDelayQueue: (queue) => delayQueues.delete(queue),
    reconnectInitialDelayMs: reconnect.initialDelayMs,
    reconnectMaxDelayMs: reconnect.maxDelayMs,
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
    specificationVersion: 'v1',
    name: NAME,
    capabilities: CAPABILITIES,
    native,
    operationTimeoutMs,

    async ensureTopic(topic) {
      assertOpen();
      await ensureTopic(topic);
    },

    async ensureSubscription(spec) {
      assertOpen();
      await ensureSubscription(spec);
    },

    async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
      assertOpen();
      if (messages.length === 0) return;
      // Publishing to a missing exchange would close the shared confirm channel with a 404: create the topic instead.
      if (!knownExchanges.has(topic)) await ensureTopic(topic);
      const publications: Publication[] = [];
      const delayQueuesUsed: string[] = [];
      for (const message of messages) {
        const options = publishOptions(message);
        const content = toBuffer(message.body);
        const delayMs = message.delayMs ?? 0;
        if (delayMs <= 0) {
          // Not mandatory: a topic without subscriptions drops the message, as pub/sub does.
          publications.push({ exchange: topic, routingKey: '', content, options });
          continue;
        }
        const remainingMs = Math.max(1, Math.ceil(message.publishedAt + delayMs - Date.now()));
        const bucket = delayBucket(remainingMs, delayDigits);
        const queue = topicDelayQueue(topic, bucket);
        await ensureDelayQueue(queue, bucket, { exchange: topic });
        delayQueuesUsed.push(queue);
        options.expiration = String(remainingMs);
        options.mandatory = true;
        publications.push({ exchange: '', routingKey: queue, content, options });
      }
      try {
        await publisher.publish(publications);
      } catch (error) {
        for (const queue of delayQueuesUsed) delayQueues.delete(queue);
        if (
          classifyError(error)?.code === 'NotFound' ||
          (OmnibusError.isInstance(error) && error.code === 'NotFound')
        ) {
          knownExchanges.delete(topic);
        }
        throw error;
      }
    },

    async subscribe(
      spec: SubscriptionSpec,
      subscribeOptions: SubscribeOptions,
    ): Promise<DriverSubscription> {
      assertOpen();
      if ((await queueCount(subscriptionQueue(spec.topic, spec.subscription))) === undefined)
        throw subscriptionNotFound(spec);
      const session = new ConsumerSession(
        sessionContext,
        spec,
        Math.max(1, subscribeOptions.maxOutstanding),
      );
      await bounded(session.start(), callTimeoutMs, () => void session.destroy());
      sessions.add(session);
      const close = session.close.bind(session);
      // The driver forgets a session once it is closed.
      session.close = async () => {
        await close();
        sessions.delete(session);
      };
      return session;
    },

    async stats(spec: SubscriptionSpec): Promise<DriverStats> {
      assertOpen();
      const waiting = await queueCount(subscriptionQueue(spec.topic, spec.subscription));
      if (waiting === undefined) throw subscriptionNotFound(spec);
      const deadLettered = spec.deadLetter
        ? ((await queueCount(deadLetterQueue(spec.topic, spec.subscription))) ?? 0)
        : 0;
      // In flight is not told: AMQP exposes no unacked count, and this process only knows its own deliveries.
      return { waiting, inFlight: undefined, deadLettered };
    },

    async peekDeadLetters(spec: SubscriptionSpec, limit: number): Promise<StoredDeadLetter[]> {
      assertOpen();
      if ((await deadLetterCount(spec)) === 0 || limit <= 0) return [];
      return withChannel(async (channel) => {
        const messages = await takeDeadLetters(channel, spec, limit);
        // AMQP can't browse: take them, then give all back at once so they keep their order.
        if (messages.length > 0) channel.nackAll(true);
        return messages.map((message) => toStoredDeadLetter(message));
      });
    },

    async countDeadLetters(spec: SubscriptionSpec): Promise<number> {
      assertOpen();
      return deadLetterCount(spec);
    },

    async redriveDeadLetters(spec: SubscriptionSpec, limit: number): Promise<number> {
      assertOpen();
      // Only what is there now: a redriven message that fails again is dead-lettered behind
      // these (the DLQ is FIFO), and taking it again would loop for as long as it keeps failing.
      const present = Math.min(limit, await deadLetterCount(spec));
      if (present === 0) return 0;
      const queue = subscriptionQueue(spec.topic, spec.subscription);
      let moved = 0;
      while (moved < present) {
        const batch = await withChannel(async (channel) => {
          const messages = await takeDeadLetters(channel, spec, Math.min(100, present - moved));
          if (messages.length === 0) return 0;
          try {
            // Back to this subscription's queue only, through the default exchange; attempts start over.
            await publisher.publish(
              messages.map((message) => {
                const options = republishOptions(message, {});
                options.mandatory = true;
                return { exchange: '', routingKey: queue, content: message.content, options };
              }),
            );
          } catch (error) {
            channel.nackAll(true);
            throw error;
          }
          // Acked only after the copies were confirmed: a crash in between duplicates, never loses.
          channel.ackAll();
          return messages.length;
        });
        if (batch === 0) break;
        moved += batch;
      }
      return moved;
    },

    async purgeDeadLetters(spec: SubscriptionSpec): Promise<number | undefined> {
      assertOpen();
      const dlq = deadLetterQueue(spec.topic, spec.subscription);
      try {
        return (await withChannel((channel) => channel.purgeQueue(dlq))).messageCount;
      } catch (error) {
        if (classifyError(error)?.code !== 'NotFound') throw error;
        if ((await queueCount(subscriptionQueue(spec.topic, spec.subscription))) === undefined)
          throw subscriptionNotFound(spec);
        return 0;
      }
    },

    classifyError,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...sessions].map((session) => session.destroy()));
      sessions.clear();
      await publisher.close();
      await Promise.allSettled(idleChannels.splice(0).map((channel) => channel.close()));
      await Promise.allSettled([publishConnection.close(), consumeConnection.close()]);
    },
  };
}

/**
 * Rejects with a retryable `Unavailable` when `work` hasn't settled within `timeoutMs`, after
 * calling `onTimeout` (which abandons the work: closes its channel). A later result is dropped.
 */
function bounded<T>(work: Promise<T>, timeoutMs: number, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      onTimeout?.();
      reject(
        new OmnibusError(
          'Unavailable',
          `RabbitMQ did not answer within ${timeoutMs} ms (80 % of operationTimeoutMs)`,
          { retryable: true, driver: NAME },
        ),
      );
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (!done) resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!done) reject(error);
      },
    );
  });
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
