// The SQS driver's factory: options, the AWS clients, and the roles (topology, publisher, subscriptions, DLQ admin) composed.

import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ClosedError, ConfigError, DEFAULT_OPERATION_TIMEOUT_MS } from '@omnibus/core';
import type { DriverStats, DriverV2, SubscriptionRef } from '@omnibus/core/driver';
import { capabilitiesFor, type SqsMode } from './capabilities.js';
import { classifyError } from './classify-error.js';
import { DeadLetterAdmin } from './dead-letter-admin.js';
import { Publisher } from './publisher.js';
import { SqsSubscription } from './sqs-subscription.js';
import { Topology } from './topology.js';

/** AWS credentials, when not taken from the SDK's default provider chain. */
export interface SqsCredentials {
  /** The access key id (`AKIA…`, or `ASIA…` for temporary credentials). */
  readonly accessKeyId: string;
  /** The secret access key; never shown in an error or log line. */
  readonly secretAccessKey: string;
  /** The session token of temporary (STS) credentials. */
  readonly sessionToken?: string | undefined;
}

/** Options of {@link sqs}. */
export interface SqsOptions {
  /** AWS region. @default process.env.AWS_REGION, else 'us-east-1' */
  region?: string;
  /**
   * Endpoint for SQS and SNS both (an emulator such as moto or fauxqs: `http://127.0.0.1:4566`).
   * @default the AWS endpoints of the region
   */
  endpoint?: string;
  /**
   * Credentials; by default the SDK's provider chain (environment, shared config, SSO, instance
   * or task role). Never put them in a URL: `fromUrl` refuses one with a user or password.
   */
  credentials?: SqsCredentials;
  /**
   * `fanout` (default): topic → SNS topic, subscription → SQS queue subscribed with raw delivery.
   * `queue`: topic → one SQS queue, one subscription per topic (`capabilities.fanout` false).
   * @default 'fanout'
   */
  mode?: SqsMode;
  /**
   * Every topic of this connection is FIFO (SNS FIFO → SQS FIFO, names ending `.fifo`):
   * `orderingKey` → `MessageGroupId`, message id → deduplication id, `capabilities.ordering` true,
   * `delayedDelivery` false (FIFO queues have no per-message delay).
   * @default false
   */
  fifo?: boolean;
  /**
   * Bound on one call against SQS/SNS, in ms: the SDK's request timeout (long polls get their wait
   * on top) and connect timeout; the SDK's own retries are off (core retries). Also
   * `?operationTimeoutMs=`. A whole number from 100 to 3600000.
   * @default 15000
   */
  operationTimeoutMs?: number;
  /** Long-poll wait of a receive, in seconds (SQS: 1–20). @default 20 */
  waitTimeSeconds?: number;
  /**
   * Most ReceiveMessage calls one receive makes (a long poll, then short polls while each comes
   * back full), so a consumer's concurrency is not capped by SQS's 10 messages per call.
   * @default 4
   */
  pollers?: number;
  /**
   * After `close()`, how long long polls still running may take to run out, in ms (what they bring
   * is released uncounted); past it they are cut, and a message such a poll took stays invisible
   * until its lease ends. Cutting the HTTP request does not end the poll on the SQS side.
   * @default 25000 (the longest wait plus margin: never cut)
   */
  closeGraceMs?: number;
  /** Extra SQS client settings (merged over the adapter's). */
  sqsClientConfig?: ConstructorParameters<typeof SQSClient>[0];
  /** Extra SNS client settings (merged over the adapter's). */
  snsClientConfig?: ConstructorParameters<typeof SNSClient>[0];
}

/** `bus.native` for SQS: the two AWS SDK clients. */
export interface SqsNative {
  /** The SQS client every queue call goes through. */
  readonly sqs: SQSClient;
  /** The SNS client for topics and subscriptions (fan-out mode; unused in queue mode). */
  readonly sns: SNSClient;
}

const NAME = 'sqs';

function wholeNumber(name: string, value: number, min: number, max: number): number {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * An Amazon SQS driver for `connect()`. Fan-out mode maps topics to SNS topics and subscriptions to
 * SQS queues subscribed with raw delivery; queue mode maps a topic to one queue; `fifo` makes both
 * FIFO. Creation is idempotent: queues, DLQs, the redrive-policy backstop, the queue policy that
 * lets SNS deliver and the subscription's raw delivery are created or set again.
 *
 * ```ts
 * import { connect } from '@omnibus/core';
 * import { sqs } from '@omnibus/sqs';
 * const bus = await connect(sqs({ region: 'eu-west-1' }));
 * ```
 */
export function sqs(options: SqsOptions = {}): DriverV2 & {
  /** The bound in force, in ms: {@link SqsOptions.operationTimeoutMs} or its default. */
  readonly operationTimeoutMs: number;
  /** The two AWS SDK clients, as `bus.native`. */
  readonly native: SqsNative;
} {
  const operationTimeoutMs = wholeNumber(
    'operationTimeoutMs',
    options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    100,
    3_600_000,
  );
  const waitTimeSeconds = wholeNumber('waitTimeSeconds', options.waitTimeSeconds ?? 20, 0, 20);
  const pollers = wholeNumber('pollers', options.pollers ?? 4, 1, 100);
  const closeGraceMs = wholeNumber('closeGraceMs', options.closeGraceMs ?? 25_000, 0, 60_000);
  const hardStop = new AbortController();
  const mode = options.mode ?? 'fanout';
  if (mode !== 'fanout' && mode !== 'queue')
    throw new ConfigError(`mode must be "fanout" or "queue", got ${JSON.stringify(String(mode))}`);
  const fifo = options.fifo ?? false;
  const fanout = mode === 'fanout';
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  // One call must end within the bound: most of it for the request, and a short connect timeout so
  // an unreachable endpoint fails fast (retryable Unavailable).
  const callTimeoutMs = Math.max(50, Math.floor(operationTimeoutMs * 0.8));
  const common = {
    region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: Math.min(callTimeoutMs, 5_000),
      requestTimeout: callTimeoutMs,
    },
  };
  const sqsClient = new SQSClient({ ...common, ...options.sqsClientConfig });
  const snsClient = new SNSClient({ ...common, ...options.snsClientConfig });
  const topology = new Topology({
    sqs: sqsClient,
    sns: snsClient,
    fanout,
    fifo,
    region,
    driverName: NAME,
  });
  const publisher = new Publisher({
    sqs: sqsClient,
    sns: snsClient,
    topology,
    fanout,
    fifo,
    driverName: NAME,
  });
  const deadLetters = new DeadLetterAdmin({ sqs: sqsClient, topology, fifo, driverName: NAME });
  const subscriptions = new Set<SqsSubscription>();
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new ClosedError('the SQS driver is closed', { driver: NAME });
  };

  return {
    specificationVersion: 'v2',
    name: NAME,
    capabilities: capabilitiesFor(mode, fifo),
    native: { sqs: sqsClient, sns: snsClient },
    operationTimeoutMs,

    async ensureTopic(spec) {
      assertOpen();
      await topology.ensureTopic(spec.topic);
    },

    async ensureSubscription(spec) {
      assertOpen();
      await topology.ensureSubscription(spec);
    },

    async publish(topic, messages) {
      assertOpen();
      return publisher.publish(topic, messages);
    },

    async subscribe(spec) {
      assertOpen();
      const queues = await topology.existing(spec);
      const topicArn = fanout ? (await topology.ensureSubscription(spec)).topicArn : undefined;
      const subscription = new SqsSubscription({
        sqs: sqsClient,
        topology,
        queues: { ...queues, topicArn },
        spec,
        fifo,
        driverName: NAME,
        waitTimeSeconds,
        pollers,
        hardStop: hardStop.signal,
        // Kept until its polls ran out: the driver's close waits for them before ending the clients.
        onClose: (done) => void done.drained().then(() => subscriptions.delete(done)),
      });
      subscriptions.add(subscription);
      return subscription;
    },

    async stats(ref: SubscriptionRef): Promise<DriverStats> {
      assertOpen();
      const { url } = await topology.existing(ref);
      const result = await sqsClient.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      // Approximate, as capabilities.stats declares: core marks them so in ConsumerStats.approximate.
      return {
        waiting: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        deadLettered: await deadLetters.count(ref),
      };
    },

    async peekDeadLetters(ref, limit) {
      assertOpen();
      return deadLetters.peek(ref, limit);
    },
    async countDeadLetters(ref) {
      assertOpen();
      return deadLetters.count(ref);
    },
    async redriveDeadLetters(ref, limit) {
      assertOpen();
      return deadLetters.redrive(ref, limit);
    },
    async purgeDeadLetters(ref) {
      assertOpen();
      return deadLetters.purge(ref);
    },
    async openDeadLetters(ref, openOptions) {
      assertOpen();
      return deadLetters.open(ref, openOptions.leaseMs);
    },
    async deleteSubscription(ref) {
      assertOpen();
      return topology.deleteSubscription(ref);
    },
    async deleteTopic(spec) {
      assertOpen();
      return topology.deleteTopic(spec.topic);
    },
    classifyError,

    async close() {
      if (closed) return;
      closed = true;
      const open = [...subscriptions];
      await Promise.allSettled(open.map((subscription) => subscription.close()));
      // As a broker does for a dropped connection: what this driver held unsettled is visible again.
      await Promise.allSettled(open.map((subscription) => subscription.releaseHeld()));
      subscriptions.clear();
      // Polls still running end on their own (their messages are released), then the clients go.
      const timer = setTimeout(() => hardStop.abort(), closeGraceMs);
      timer.unref();
      void Promise.allSettled(open.map((subscription) => subscription.drained())).then(() => {
        clearTimeout(timer);
        sqsClient.destroy();
        snsClient.destroy();
      });
    },
  };
}
