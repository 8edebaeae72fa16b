// The Pub/Sub clients one driver uses (publisher and subscriber gRPC stubs) and the time bound on every call.
import { type ClientConfig, PubSub, v1 } from '@google-cloud/pubsub';
import { OmnibusError, withTimeLimit } from '@omnibus/core';

/** Options every unary call gets: the driver's own deadline, and no retries of the library's (core retries). */
export interface CallOptions {
  readonly timeout: number;
  readonly retry: null;
}

/** The clients of one driver and the way it calls them. */
export interface Clients {
  readonly pubsub: PubSub;
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
  readonly projectId: string;
  /** Runs one unary call within `timeoutMs` (default: the driver's per-call share of operationTimeoutMs). */
  call<T>(work: (options: CallOptions) => Promise<T>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * Builds the clients. `PubSub` works out the endpoint (`apiEndpoint`, else `PUBSUB_EMULATOR_HOST`:
 * plain-text gRPC to the emulator) and credentials (Application Default Credentials); the
 * low-level `v1` clients get the same options, so the driver pulls, acks and extends leases
 * itself (core owns leasing) instead of the library's streaming pull and lease manager.
 */
export function createClients(
  projectId: string,
  config: ClientConfig,
  callTimeoutMs: number,
  driverName: string,
): Clients {
  const pubsub = new PubSub({ ...config, projectId });
  // The endpoint, TLS and project PubSub worked out, for the generated clients (typed loosely there).
  const options = {
    ...pubsub.options,
    // On the emulator (plain-text gRPC, no credentials) the universe domain is the default one:
    // said here, the auth library doesn't look for Application Default Credentials to learn it,
    // which probes the GCE metadata server and prints a MetadataLookupWarning off Google Cloud.
    ...(pubsub.isEmulator ? { universeDomain: 'googleapis.com' } : {}),
  } as ConstructorParameters<typeof v1.PublisherClient>[0];
  const publisher = new v1.PublisherClient(options);
  const subscriber = new v1.SubscriberClient(options);
  return {
    pubsub,
    publisher,
    subscriber,
    projectId,
    call(work, timeoutMs = callTimeoutMs) {
      // gRPC's deadline ends the call on the wire; the time limit is the backstop for the time
      // the library spends before the call starts (credentials, channel setup).
      return withTimeLimit(
        work({ timeout: timeoutMs, retry: null }),
        timeoutMs + 250,
        () =>
          new OmnibusError(
            'Unavailable',
            `Pub/Sub did not answer within ${timeoutMs} ms (80 % of operationTimeoutMs)`,
            { retryable: true, driver: driverName },
          ),
      );
    },
    async close() {
      await Promise.allSettled([publisher.close(), subscriber.close(), pubsub.close()]);
    },
  };
}
