// Publishing through the low-level PublisherClient: requests within the service's limits, one ordering key at a time.
import { OmnibusError } from '@omnibus/core';
import type { Clients } from './clients.js';
import type { PubsubMessage } from './message-mapping.js';
import { checkServiceLimits, messageBytes, SERVICE_LIMITS } from './service-limits.js';

/** Bytes a message costs in the request beyond its own (protobuf framing), counted generously. */
const FRAMING_BYTES = 64;

/**
 * Sends messages to topics. Core batches sends (≤ 1,000 per call); this splits a batch only where
 * the attributes Omnibus adds would take the request past 10 MB, and checks each message against
 * the service's limits first (the emulator checks none).
 *
 * **Ordering keys.** Pub/Sub keeps the order of one key's messages within a request and across
 * requests sent one after another. Concurrent publishes sharing a key therefore wait for each
 * other here. When a publish carrying a key fails, the key **pauses** as in Google's client: the
 * publishes of the key already waiting behind it are refused with a retryable `Unavailable` naming
 * the key and the failure (rather than overtaking it), and the key resumes at once, so core's
 * retries go through and nothing hangs.
 */
export class Publisher {
  readonly #clients: Clients;
  readonly #driverName: string;
  /** The last publish carrying each ordering key of each topic; later ones of the key wait for it. */
  readonly #keyTails = new Map<string, Promise<void>>();

  constructor(clients: Clients, driverName: string) {
    this.#clients = clients;
    this.#driverName = driverName;
  }

  /** Publishes `messages` to the topic (a full resource path); resolves once the service accepted all. */
  async publish(topicPath: string, messages: readonly PubsubMessage[]): Promise<void> {
    for (const message of messages) checkServiceLimits(message);
    const keys = [...new Set(messages.map((m) => m.orderingKey).filter((k): k is string => !!k))];
    if (keys.length === 0) return this.#send(topicPath, messages);
    // Order is per topic and key: the same key on another topic doesn't wait.
    const tails = keys.map((key) => `${topicPath}\n${key}`);
    const before = tails.map((tail) => this.#keyTails.get(tail));
    const run = (async () => {
      const outcomes = await Promise.allSettled(before.map((tail) => tail ?? Promise.resolve()));
      const failed = outcomes.findIndex((outcome) => outcome.status === 'rejected');
      if (failed >= 0) {
        const reason = (outcomes[failed] as PromiseRejectedResult).reason as Error;
        throw new OmnibusError(
          'Unavailable',
          `ordering key "${keys[failed]}" was paused: an earlier publish of the key failed (${reason?.message ?? String(reason)}); the key is resumed, send again`,
          { retryable: true, driver: this.#driverName, cause: reason },
        );
      }
      await this.#send(topicPath, messages);
    })();
    const tail = run.then(
      () => undefined,
      (error: unknown) => Promise.reject(error),
    );
    // A tail nobody waits on must not become an unhandled rejection.
    tail.catch(() => undefined);
    for (const name of tails) this.#keyTails.set(name, tail);
    try {
      await run;
    } finally {
      for (const name of tails) if (this.#keyTails.get(name) === tail) this.#keyTails.delete(name);
    }
  }

  async #send(topicPath: string, messages: readonly PubsubMessage[]): Promise<void> {
    for (const chunk of requests(messages)) {
      await this.#clients.call((options) =>
        this.#clients.publisher.publish({ topic: topicPath, messages: chunk }, options),
      );
    }
  }
}

/** Splits messages into requests within 1,000 messages and 10 MB, keeping their order. */
function requests(messages: readonly PubsubMessage[]): PubsubMessage[][] {
  const chunks: PubsubMessage[][] = [];
  let chunk: PubsubMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message) + FRAMING_BYTES;
    if (
      chunk.length > 0 &&
      (chunk.length >= SERVICE_LIMITS.messagesPerPublish ||
        bytes + size > SERVICE_LIMITS.requestBytes)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
