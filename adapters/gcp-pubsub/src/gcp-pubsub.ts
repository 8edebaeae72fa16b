// The Pub/Sub driver's factory: options, and the roles (clients, topology, publisher, sessions, DLQ admin) composed.
import type { ClientConfig, PubSub, v1 } from '@google-cloud/pubsub';
import { ClosedError, DEFAULT_OPERATION_TIMEOUT_MS, OmnibusError } from '@omnibus/core';
import type {
  BatchResult,
  DriverStats,
  DriverSubscription,
  DriverV2,
  OutgoingMessage,
  SubscribeOptions,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import { AttemptLedger } from './attempt-ledger.js';
import { resourcePaths } from './broker-names.js';
import { CAPABILITIES } from './capabilities.js';
import { classifyError } from './classify-error.js';
import { createClients } from './clients.js';
import { DeadLetterAdmin } from './dead-letter-admin.js';
import { toPubsubMessage } from './message-mapping.js';
import { Publisher } from './publisher.js';
import { PubSubSubscription } from './pubsub-subscription.js';
import { subscriptionAckDeadlineSeconds } from './service-limits.js';
import { Topology } from './topology.js';

/** Options of {@link gcpPubSub}. */
export interface GcpPubSubOptions {
  /**
   * The Google Cloud project holding the topics and subscriptions. Any id works on the emulator.
   * @default the `GOOGLE_CLOUD_PROJECT` environment variable
   */
  projectId?: string;
  /**
   * `host:port` of the Pub/Sub endpoint; a host that is not `*.googleapis.com` is reached in plain
   * text, as the emulator is. @default `PUBSUB_EMULATOR_HOST` when set, else Google's endpoint
   */
  apiEndpoint?: string;
  /**
   * More options for `new PubSub(…)` from `@google-cloud/pubsub` (credentials, `keyFilename`,
   * `universeDomain`, gRPC settings). `projectId` and `apiEndpoint` above win over theirs.
   */
  clientConfig?: ClientConfig;
  /**
   * Upper bound, in ms, on every single call against Pub/Sub (core's retries included): a call
   * gets 80 % of it as its gRPC deadline, with the library's own retries off. Past it the call
   * rejects `Unavailable` or `Timeout` (retryable). Also the URL parameter `?operationTimeoutMs=`.
   * A whole number from 100 to 3600000, else `Config`.
   * @default 15000
   */
  operationTimeoutMs?: number;
  /**
   * The deadline of one `pull`, in ms: how long it waits for messages before it comes back empty
   * and core asks again (the emulator answers an idle pull 1 s before it). Also how long the
   * driver's `close()` may wait for a pull still on the wire, to hand its messages back. A whole
   * number from 1000 to 60000, else `Config`. Also the URL parameter `?pullTimeoutMs=`.
   * @default 2000
   */
  pullTimeoutMs?: number;
}

/** `bus.native` for Pub/Sub: the high-level client and the two low-level ones the driver calls. */
export interface GcpPubSubNative {
  /** The high-level client, for admin work the driver doesn't do (IAM, snapshots, seek, schemas). */
  readonly pubsub: PubSub;
  /** The low-level publisher client the driver publishes and creates topics with. */
  readonly publisher: v1.PublisherClient;
  /** The low-level subscriber client the driver pulls, acks and extends leases with. */
  readonly subscriber: v1.SubscriberClient;
  /** The project the driver works in. */
  readonly projectId: string;
}

/** The driver {@link gcpPubSub} builds: a `DriverV2` whose timeout and native clients are known. */
export interface GcpPubSubDriver extends DriverV2 {
  /** The bound on one call, in ms (the option, or 15000). */
  readonly operationTimeoutMs: number;
  /** `bus.native`: the clients the driver calls. */
  readonly native: GcpPubSubNative;
}

const NAME = 'gcp-pubsub';

/** Share of operationTimeoutMs one driver call may take, so its own error reaches the user before core's deadline. */
const CALL_SHARE = 0.8;

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

function checkPullTimeout(ms: number): number {
  if (!(Number.isInteger(ms) && ms >= 1_000 && ms <= 60_000)) {
    throw new OmnibusError(
      'Config',
      `pullTimeoutMs must be a whole number of milliseconds from 1000 to 60000, got ${String(ms)}`,
      { driver: NAME },
    );
  }
  return ms;
}

/**
 * A Google Cloud Pub/Sub driver for `connect()`: topics are topics, subscriptions are
 * subscriptions (named `topic.subscription`), each DLQ a topic with a reader subscription of the
 * same name. Built on the low-level publisher and subscriber clients: unary pull, acknowledge and
 * modifyAckDeadline, so core alone decides leases.
 *
 * ```ts
 * import { connect } from '@omnibus/core';
 * import { gcpPubSub } from '@omnibus/gcp-pubsub';
 * const bus = await connect(gcpPubSub({ projectId: 'my-project' }));
 * ```
 * @throws `Config` without a project id, or for a bad `operationTimeoutMs`
 */
export function gcpPubSub(options: GcpPubSubOptions = {}): GcpPubSubDriver {
  const projectId =
    options.projectId ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT;
  if (projectId === undefined || projectId === '') {
    throw new OmnibusError(
      'Config',
      'a Pub/Sub project id is needed: gcppubsub://PROJECT, the projectId option or GOOGLE_CLOUD_PROJECT',
      { driver: NAME },
    );
  }
  const operationTimeoutMs = checkOperationTimeout(
    options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
  );
  const callTimeoutMs = Math.max(50, Math.floor(operationTimeoutMs * CALL_SHARE));
  const pullTimeoutMs = checkPullTimeout(options.pullTimeoutMs ?? 2_000);
  const clients = createClients(
    projectId,
    {
      ...options.clientConfig,
      ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
    },
    callTimeoutMs,
    NAME,
  );
  const paths = resourcePaths(projectId);
  const topology = new Topology(clients, paths, NAME);
  const publisher = new Publisher(clients, NAME);
  const ledger = new AttemptLedger();
  const deadLetters = new DeadLetterAdmin(clients, paths, topology, publisher);
  const sessions = new Set<PubSubSubscription>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new ClosedError('the Pub/Sub driver is closed', { driver: NAME });
  };

  const native: GcpPubSubNative = {
    pubsub: clients.pubsub,
    publisher: clients.publisher,
    subscriber: clients.subscriber,
    projectId,
  };

  return {
    specificationVersion: 'v2',
    name: NAME,
    capabilities: CAPABILITIES,
    native,
    operationTimeoutMs,

    async ensureTopic(spec) {
      assertOpen();
      await topology.ensureTopic(paths.topic(spec.topic));
    },

    async ensureSubscription(spec) {
      assertOpen();
      await topology.ensureSubscription(spec);
    },

    async publish(
      topic: string,
      messages: readonly OutgoingMessage[],
    ): Promise<BatchResult | undefined> {
      assertOpen();
      await publisher.publish(paths.topic(topic), messages.map(toPubsubMessage));
      return undefined;
    },

    async subscribe(
      spec: SubscriptionSpec,
      subscribeOptions: SubscribeOptions,
    ): Promise<DriverSubscription> {
      assertOpen();
      const resource = await topology.subscription(spec);
      const wanted = subscriptionAckDeadlineSeconds(spec.ackDeadlineMs);
      const session = new PubSubSubscription({
        clients,
        publisher,
        ledger,
        spec,
        maxOutstanding: subscribeOptions.maxOutstanding,
        subscriptionPath: paths.subscription(spec),
        deadLetterTopicPath:
          resource.deadLetterPolicy?.deadLetterTopic ??
          (spec.deadLetter ? paths.deadLetterTopic(spec) : undefined),
        leaseSeconds: resource.ackDeadlineSeconds === wanted ? undefined : wanted,
        pullTimeoutMs,
        onClose: (done) => {
          void done.drain(pullTimeoutMs + 1_000).then(() => sessions.delete(done));
        },
      });
      sessions.add(session);
      return session;
    },

    async stats(ref): Promise<DriverStats> {
      assertOpen();
      await topology.subscription(ref);
      // Backlog and in-flight counts exist only in Cloud Monitoring; dead letters are counted by
      // pulling the DLQ reader and handing every letter back (approximate, and a pull of them all).
      return {
        waiting: undefined,
        inFlight: undefined,
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

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...sessions].map((session) => session.close()));
      // A pull still on the wire may yet take messages (the emulator even hands messages to a
      // cancelled pull): wait for it and hand them back before the channels close.
      await Promise.allSettled([...sessions].map((session) => session.drain(pullTimeoutMs + 500)));
      sessions.clear();
      await clients.close();
    },
  };
}
