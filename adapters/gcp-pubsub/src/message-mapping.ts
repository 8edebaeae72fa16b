// Omnibus messages to Pub/Sub messages and back: attributes carry what Pub/Sub has no slot for.

import type { protos } from '@google-cloud/pubsub';
import { WIRE } from '@omnibus/core';
import type { OutgoingMessage, ReceivedMessage, StoredDeadLetter } from '@omnibus/core/driver';
import { SERVICE_LIMITS, truncateUtf8 } from './service-limits.js';

export type PubsubMessage = protos.google.pubsub.v1.IPubsubMessage;
export type PulledMessage = protos.google.pubsub.v1.IReceivedMessage;

/**
 * Attributes the service's native dead-letter policy adds to what it forwards
 * (https://cloud.google.com/pubsub/docs/handling-failures#track-delivery-attempts).
 */
export const NATIVE_DEAD_LETTER = {
  /** The subscription the message was forwarded from. */
  subscription: 'CloudPubSubDeadLetterSourceSubscription',
  /** That subscription's project. */
  subscriptionProject: 'CloudPubSubDeadLetterSourceSubscriptionProject',
  /** When the message was first published to the source topic. */
  topicPublishTime: 'CloudPubSubDeadLetterSourceTopicPublishTime',
  /** The delivery attempts it had when forwarded: the dead letter's attempts. */
  deliveryCount: 'CloudPubSubDeadLetterSourceDeliveryCount',
} as const;

/** Attribute names Omnibus or the service write; never handed to users as their own. */
const SYSTEM_ATTRIBUTES = new Set<string>([
  ...Object.values(WIRE),
  ...Object.values(NATIVE_DEAD_LETTER),
]);

/** The Pub/Sub message for an outgoing one: body as data, metadata in `omnibus-*` attributes. */
export function toPubsubMessage(message: OutgoingMessage): PubsubMessage {
  const attributes: Record<string, string> = {
    ...message.attributes,
    [WIRE.id]: message.id,
    [WIRE.publishedAt]: String(message.publishedAt),
    [WIRE.contentType]: message.contentType,
  };
  if (message.traceparent !== undefined) attributes[WIRE.traceparent] = message.traceparent;
  return {
    data: message.body,
    attributes,
    ...(message.orderingKey === undefined ? {} : { orderingKey: message.orderingKey }),
  };
}

/** Epoch ms of a protobuf Timestamp. */
export function timestampMs(
  timestamp: protos.google.protobuf.ITimestamp | null | undefined,
): number {
  if (timestamp == null) return Date.now();
  return Number(timestamp.seconds ?? 0) * 1_000 + Math.floor((timestamp.nanos ?? 0) / 1_000_000);
}

function decimal(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** The fields of a pulled message every reader (subscription, DLQ) shares. */
export function readMessage(pulled: PulledMessage): {
  id: string;
  body: Uint8Array;
  raw: Readonly<Record<string, string>>;
  attributes: Record<string, string>;
  contentType: string | undefined;
  publishedAt: number;
  orderingKey: string | undefined;
  traceparent: string | undefined;
  redrives: number;
} {
  const message = pulled.message ?? {};
  const raw = message.attributes ?? {};
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!SYSTEM_ATTRIBUTES.has(key)) attributes[key] = value;
  }
  const data = message.data;
  const body =
    data == null ? new Uint8Array() : typeof data === 'string' ? Buffer.from(data, 'base64') : data;
  return {
    id: raw[WIRE.id] ?? message.messageId ?? '',
    body,
    raw,
    attributes,
    contentType: raw[WIRE.contentType],
    publishedAt: decimal(raw[WIRE.publishedAt]) ?? timestampMs(message.publishTime),
    orderingKey: message.orderingKey ? message.orderingKey : undefined,
    traceparent: raw[WIRE.traceparent],
    redrives: decimal(raw[WIRE.redrives]) ?? 0,
  };
}

/** A pulled message as core receives it; `attempt` is worked out by the caller. */
export function toReceivedMessage(
  pulled: PulledMessage,
  attempt: number,
  handle: unknown,
): ReceivedMessage {
  const read = readMessage(pulled);
  return {
    id: read.id,
    body: read.body,
    attributes: read.attributes,
    contentType: read.contentType,
    publishedAt: read.publishedAt,
    orderingKey: read.orderingKey,
    traceparent: read.traceparent,
    redrives: read.redrives,
    attempt: Number.isFinite(attempt) && attempt >= 1 ? attempt : 1,
    handle,
    native: pulled,
  };
}

/** What a DLQ copy carries besides the message itself. */
export interface DeadLetterMetadata {
  readonly reason: string;
  readonly attempts: number;
  readonly topic: string;
  readonly subscription: string;
}

/** The DLQ copy of a received message: same id, data, attributes, ordering key, plus why and when. */
export function toDeadLetterMessage(
  message: ReceivedMessage,
  metadata: DeadLetterMetadata,
): PubsubMessage {
  const attributes: Record<string, string> = {
    ...message.attributes,
    [WIRE.id]: message.id,
    [WIRE.publishedAt]: String(message.publishedAt),
    // The service caps attribute values at 1,024 bytes: a longer reason is cut, marked with "…".
    [WIRE.deadLetterReason]: truncateUtf8(metadata.reason, SERVICE_LIMITS.attributeValueBytes),
    [WIRE.deadLetterAttempts]: String(metadata.attempts),
    [WIRE.deadLetteredAt]: String(Date.now()),
    [WIRE.sourceTopic]: metadata.topic,
    [WIRE.sourceSubscription]: metadata.subscription,
  };
  if (message.contentType !== undefined) attributes[WIRE.contentType] = message.contentType;
  if (message.traceparent !== undefined) attributes[WIRE.traceparent] = message.traceparent;
  if ((message.redrives ?? 0) > 0) attributes[WIRE.redrives] = String(message.redrives);
  return {
    data: message.body,
    attributes,
    ...(message.orderingKey === undefined ? {} : { orderingKey: message.orderingKey }),
  };
}

/**
 * A message pulled from the DLQ subscription as a stored dead letter. A letter the service's own
 * dead-letter policy forwarded (the backstop) has no Omnibus reason: it gets one naming the policy,
 * and its attempts from `CloudPubSubDeadLetterSourceDeliveryCount`.
 */
export function toStoredDeadLetter(pulled: PulledMessage): StoredDeadLetter {
  const read = readMessage(pulled);
  const nativeCount = decimal(read.raw[NATIVE_DEAD_LETTER.deliveryCount]);
  const reason =
    read.raw[WIRE.deadLetterReason] ??
    (nativeCount === undefined
      ? 'dead-lettered outside Omnibus'
      : `delivery limit reached: the subscription's dead-letter policy forwarded it after ${nativeCount} delivery attempts`);
  return {
    id: read.id,
    body: read.body,
    attributes: read.attributes,
    contentType: read.contentType,
    publishedAt: read.publishedAt,
    orderingKey: read.orderingKey,
    attempts: decimal(read.raw[WIRE.deadLetterAttempts]) ?? nativeCount ?? 1,
    reason,
    deadLetteredAt:
      decimal(read.raw[WIRE.deadLetteredAt]) ?? timestampMs(pulled.message?.publishTime),
    redrives: read.redrives,
    native: pulled,
  };
}

/** The copy a redrive publishes: the letter as first sent, attempts restarting, `redrives` + 1. */
export function toRedriveMessage(letter: StoredDeadLetter): PubsubMessage {
  const attributes: Record<string, string> = {
    ...letter.attributes,
    [WIRE.id]: letter.id,
    [WIRE.publishedAt]: String(letter.publishedAt),
    [WIRE.redrives]: String((letter.redrives ?? 0) + 1),
  };
  if (letter.contentType !== undefined) attributes[WIRE.contentType] = letter.contentType;
  const traceparent = (letter.native as PulledMessage).message?.attributes?.[WIRE.traceparent];
  if (traceparent !== undefined) attributes[WIRE.traceparent] = traceparent;
  return {
    data: letter.body,
    attributes,
    ...(letter.orderingKey === undefined ? {} : { orderingKey: letter.orderingKey }),
  };
}
