// The real Pub/Sub service's limits, enforced here because the emulator accepts what the service refuses.

import type { protos } from '@google-cloud/pubsub';
import { MessageTooLargeError, OmnibusError } from '@omnibus/core';

/**
 * Pub/Sub's quotas and limits (https://cloud.google.com/pubsub/quotas#resource_limits) and the
 * ranges of its API fields (https://cloud.google.com/pubsub/docs/reference/rpc/google.pubsub.v1).
 */
export const SERVICE_LIMITS = {
  /** A publish request (and so one message): 10 MB. */
  requestBytes: 10_000_000,
  /** Messages per publish request. */
  messagesPerPublish: 1_000,
  /** Attributes per message. */
  attributes: 100,
  /** Bytes of an attribute key. */
  attributeKeyBytes: 256,
  /** Bytes of an attribute value. */
  attributeValueBytes: 1_024,
  /** Bytes of an ordering key. */
  orderingKeyBytes: 1_024,
  /** Shortest ack deadline of a subscription, in seconds (modifyAckDeadline also takes 0: nack). */
  ackDeadlineMinSeconds: 10,
  /** Longest ack deadline of a subscription and of one modifyAckDeadline, in seconds. */
  ackDeadlineMaxSeconds: 600,
  /** Bytes of ack ids in one acknowledge or modifyAckDeadline request (512 KiB, less headroom). */
  ackIdBytesPerRequest: 500_000,
  /** Smallest maxDeliveryAttempts of a dead-letter policy. */
  minDeliveryAttempts: 5,
  /** Largest maxDeliveryAttempts of a dead-letter policy. */
  maxDeliveryAttempts: 100,
  /** Resource names (topics, subscriptions). */
  nameLength: 255,
} as const;

/** Bytes a message counts toward the publish request: data, attribute keys and values, ordering key. */
export function messageBytes(message: protos.google.pubsub.v1.IPubsubMessage): number {
  let bytes = (message.data as Uint8Array | undefined)?.byteLength ?? 0;
  for (const [key, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  return bytes + Buffer.byteLength(message.orderingKey ?? '');
}

/**
 * Refuses a message the service would refuse, with the error the service would give (core's
 * portable rules are stricter for what users send; this catches what the adapter itself builds:
 * dead-letter copies, redriven letters a plain client wrote).
 * @throws `MessageTooLarge` over 10 MB; `InvalidArgument` for too many or too long attributes or
 * ordering key
 */
export function checkServiceLimits(message: protos.google.pubsub.v1.IPubsubMessage): void {
  const bytes = messageBytes(message);
  if (bytes > SERVICE_LIMITS.requestBytes) {
    throw new MessageTooLargeError(
      `the Pub/Sub message is ${bytes} bytes with its attributes; the service takes at most ${SERVICE_LIMITS.requestBytes}`,
      { driver: 'gcp-pubsub' },
    );
  }
  const attributes = Object.entries(message.attributes ?? {});
  if (attributes.length > SERVICE_LIMITS.attributes) {
    throw invalid(
      `the Pub/Sub message has ${attributes.length} attributes; the service takes at most ${SERVICE_LIMITS.attributes}`,
    );
  }
  for (const [key, value] of attributes) {
    if (Buffer.byteLength(key) > SERVICE_LIMITS.attributeKeyBytes)
      throw invalid(
        `attribute key "${key.slice(0, 32)}…" is over the service's ${SERVICE_LIMITS.attributeKeyBytes} bytes`,
      );
    if (Buffer.byteLength(value) > SERVICE_LIMITS.attributeValueBytes)
      throw invalid(
        `the value of attribute "${key}" is over the service's ${SERVICE_LIMITS.attributeValueBytes} bytes`,
      );
  }
  if (Buffer.byteLength(message.orderingKey ?? '') > SERVICE_LIMITS.orderingKeyBytes) {
    throw invalid(
      `the ordering key is over the service's ${SERVICE_LIMITS.orderingKeyBytes} bytes`,
    );
  }
}

/** Seconds for modifyAckDeadline from ms: rounded up, within 0–600 (0 only when asked for 0). */
export function ackDeadlineSeconds(ms: number): number {
  if (ms <= 0) return 0;
  return Math.min(SERVICE_LIMITS.ackDeadlineMaxSeconds, Math.ceil(ms / 1_000));
}

/** A subscription's ackDeadlineSeconds from ms: rounded up, within 10–600. */
export function subscriptionAckDeadlineSeconds(ms: number): number {
  return Math.max(SERVICE_LIMITS.ackDeadlineMinSeconds, ackDeadlineSeconds(ms));
}

/** Cuts a UTF-8 string to at most `maxBytes` bytes, marking the cut with an ellipsis. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  let cut = value;
  while (Buffer.byteLength(cut) > maxBytes - 3) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return `${cut}…`;
}

function invalid(message: string): OmnibusError {
  return new OmnibusError('InvalidArgument', message, { driver: 'gcp-pubsub', retryable: false });
}
