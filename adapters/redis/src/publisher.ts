// Publishing: a batch as one script call, and the trim of topics no consumer of this process reads.
import { randomBytes } from 'node:crypto';
import type { BatchResult, OutgoingMessage } from '@omnibus/core/driver';
import type { RedisClient } from './connection.js';
import { encodeFields } from './fields.js';
import { publishEntries } from './scripts/publish-entries.js';
import { trimStream } from './scripts/trim-stream.js';
import type { TopicKeys, Topology } from './topology.js';

export interface PublisherOptions {
  readonly client: RedisClient;
  readonly topology: Topology;
  readonly maxLength: number;
  readonly trimIntervalMs: number;
  readonly staleConsumerMs: number;
}

/** Publishes batches within `capabilities.batch.publish`. */
export interface Publisher {
  /**
   * One PUBLISH script call: Redis runs it whole, but a script that fails midway keeps what it did,
   * so a rejection means any of the batch may have landed (no per-entry result to give).
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<BatchResult | undefined>;
}

export function createPublisher(options: PublisherOptions): Publisher {
  const { client, topology, maxLength, trimIntervalMs, staleConsumerMs } = options;
  const lastTopicTrim = new Map<string, number>();

  /** Streams of topics without a consumer running still get trimmed, by their producers. */
  function maybeTrimTopic(keys: TopicKeys): void {
    const { stream } = keys;
    if (trimIntervalMs <= 0) return;
    const now = Date.now();
    const last = lastTopicTrim.get(stream);
    if (last !== undefined && now - last < trimIntervalMs) return;
    if (last === undefined && lastTopicTrim.size > 10_000) lastTopicTrim.clear();
    lastTopicTrim.set(stream, now);
    if (last === undefined) return;
    trimStream(client, keys, { staleConsumerMs, kind: 'topic' }).catch(() => undefined);
  }

  return {
    async publish(topic, messages) {
      const keys = topology.topic(topic);
      await publishEntries(client, keys, {
        maxLength,
        entries: messages.map((message) => ({
          delayMs: message.delayMs ?? 0,
          nonce: nonce(),
          fields: encodeFields(message),
        })),
      });
      maybeTrimTopic(keys);
      return undefined;
    },
  };
}

let nonceCounter = 0;
const noncePrefix = randomBytes(6).toString('base64url');

/** Keeps members of a scheduled set distinct even for identical messages. */
function nonce(): string {
  nonceCounter = (nonceCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${noncePrefix}${nonceCounter}`;
}
