import { createHash } from 'node:crypto';
import type { OutgoingMessage, ReceivedMessage, StoredDeadLetter } from '@omnibus/core/driver';
import type { Message, MessagePropertyHeaders, Options } from 'amqplib';
import { maxAttemptsFromRoutingKey } from './topology.js';

/**
 * Omnibus metadata rides in AMQP properties where one fits (`message_id`, `content_type`,
 * `timestamp`, `delivery_mode`) and in `omnibus-*` headers otherwise; the body is the codec's bytes
 * alone. User attributes are plain string headers, so a plain AMQP client sees them as such.
 */
export const HEADER = {
  /** Epoch ms of the original send (the `timestamp` property only has seconds). */
  publishedAt: 'omnibus-published-at',
  orderingKey: 'omnibus-ordering-key',
  /** Deliveries a message had before it was re-enqueued through a delay queue, which restarts `x-delivery-count`. */
  attempts: 'omnibus-attempts',
  deadLetterReason: 'omnibus-dead-letter-reason',
  deadLetterAttempts: 'omnibus-dead-letter-attempts',
  deadLetteredAt: 'omnibus-dead-lettered-at',
  /** W3C trace context, under the name OpenTelemetry's AMQP instrumentations use. */
  traceparent: 'traceparent',
} as const;

function isInternalHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('omnibus') || lower.startsWith('x-') || lower === HEADER.traceparent;
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Publish options for a message on its first send. */
export function publishOptions(message: OutgoingMessage): Options.Publish {
  const headers: Record<string, unknown> = {
    ...message.attributes,
    [HEADER.publishedAt]: message.publishedAt,
  };
  if (message.orderingKey !== undefined) headers[HEADER.orderingKey] = message.orderingKey;
  if (message.traceparent !== undefined) headers[HEADER.traceparent] = message.traceparent;
  return {
    persistent: true,
    messageId: message.id,
    contentType: message.contentType,
    timestamp: Math.floor(message.publishedAt / 1000),
    headers,
  };
}

/** A header value from a plain client as a string attribute; tables and arrays don't fit and are left out. */
function headerString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function headerNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '' && Number.isFinite(Number(value)))
    return Number(value);
  // amqplib decodes typed table values (timestamps) as { '!': type, value }.
  if (typeof value === 'object' && value !== null && 'value' in value)
    return headerNumber((value as { value: unknown }).value);
  return undefined;
}

export function userAttributes(
  headers: MessagePropertyHeaders | undefined,
): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (headers === undefined) return attributes;
  for (const [name, value] of Object.entries(headers)) {
    if (isInternalHeader(name)) continue;
    const text = headerString(value);
    if (text !== undefined) attributes[name] = text;
  }
  return attributes;
}

/**
 * The id of a message. A plain client may send none and RabbitMQ assigns no id of its own, so the
 * adapter derives one from what stays the same across redeliveries (body, user headers,
 * properties); the adapter sets it as `message_id` whenever it re-publishes the message.
 */
export function messageId(message: Message): string {
  const id: unknown = message.properties.messageId;
  if (typeof id === 'string' && id !== '') return id;
  const hash = createHash('sha256');
  hash.update(message.content);
  const { headers, timestamp, correlationId, type, appId } = message.properties;
  const stable = Object.entries(userAttributes(headers)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  hash.update(
    JSON.stringify([
      stable,
      headerNumber(timestamp) ?? null,
      correlationId ?? null,
      type ?? null,
      appId ?? null,
    ]),
  );
  return `amqp-${hash.digest('hex').slice(0, 32)}`;
}

function publishedAtOf(message: Message): number {
  const headers = message.properties.headers;
  const fromHeader = headerNumber(headers?.[HEADER.publishedAt]);
  if (fromHeader !== undefined) return fromHeader;
  const seconds = headerNumber(message.properties.timestamp);
  return seconds === undefined ? Date.now() : seconds * 1000;
}

/**
 * Deliveries so far: quorum queues count returns in `x-delivery-count` (absent on a first
 * delivery), and the adapter adds the deliveries made before the message last went through a delay
 * queue, where RabbitMQ enqueued it as a new message.
 */
export function attemptOf(message: Message): number {
  const headers = message.properties.headers;
  return (
    (headerNumber(headers?.[HEADER.attempts]) ?? 0) +
    (headerNumber(headers?.['x-delivery-count']) ?? 0) +
    1
  );
}

export function toReceivedMessage(message: Message, handle: unknown): ReceivedMessage {
  const headers = message.properties.headers;
  const contentType: unknown = message.properties.contentType;
  const orderingKey = headers?.[HEADER.orderingKey];
  const traceparent = headers?.[HEADER.traceparent];
  return {
    id: messageId(message),
    body: message.content,
    attributes: userAttributes(headers),
    contentType: typeof contentType === 'string' && contentType !== '' ? contentType : undefined,
    publishedAt: publishedAtOf(message),
    orderingKey: orderingKey === undefined ? undefined : headerString(orderingKey),
    traceparent: traceparent === undefined ? undefined : headerString(traceparent),
    attempt: attemptOf(message),
    handle,
    native: message,
  };
}

/**
 * Options to re-publish a received message (delay queue, DLQ, redrive): same id, properties and
 * user headers, without the broker's `x-*` bookkeeping and without the adapter's attempt and
 * dead-letter headers, which the caller sets again as needed.
 */
export function republishOptions(
  message: Message,
  extraHeaders: Record<string, unknown>,
): Options.Publish {
  const source = message.properties;
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source.headers ?? {})) {
    const lower = name.toLowerCase();
    if (
      lower.startsWith('x-') ||
      lower === HEADER.attempts ||
      lower.startsWith('omnibus-dead-letter')
    )
      continue;
    headers[name] = value;
  }
  if (headers[HEADER.publishedAt] === undefined)
    headers[HEADER.publishedAt] = publishedAtOf(message);
  Object.assign(headers, extraHeaders);
  const options: Options.Publish = { persistent: true, messageId: messageId(message), headers };
  if (source.contentType !== undefined) options.contentType = source.contentType;
  if (source.contentEncoding !== undefined) options.contentEncoding = source.contentEncoding;
  if (source.timestamp !== undefined) options.timestamp = source.timestamp;
  if (source.correlationId !== undefined) options.correlationId = source.correlationId;
  if (source.replyTo !== undefined) options.replyTo = source.replyTo;
  if (source.type !== undefined) options.type = source.type;
  if (source.appId !== undefined) options.appId = source.appId;
  if (source.priority !== undefined) options.priority = source.priority;
  return options;
}

/** Text for the reasons RabbitMQ itself records in `x-death` when it dead-letters a message. */
const NATIVE_REASONS: Readonly<Record<string, string>> = {
  delivery_limit:
    'delivery limit reached (x-delivery-limit): the message was redelivered maxAttempts times, e.g. after consumers crashed',
  rejected: 'rejected without requeue by a consumer',
  expired: 'message TTL expired',
  maxlen: 'queue length limit exceeded',
};

interface DeathRecord {
  readonly reason?: unknown;
  readonly time?: unknown;
}

/**
 * Reads a DLQ message back. Explicit dead letters carry the adapter's headers; messages RabbitMQ
 * dead-lettered itself (the delivery-limit backstop) carry only `x-death`, so their attempts are
 * the deliveries the limit allowed, read from the dead-letter routing key.
 */
export function toStoredDeadLetter(message: Message): StoredDeadLetter {
  const headers = message.properties.headers ?? {};
  const received = toReceivedMessage(message, undefined);
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as DeathRecord[]) : [];
  // Most recent first: a message that went through a delay queue also has an `expired` record.
  const lastDeath = deaths[0];
  const explicitReason = headerString(headers[HEADER.deadLetterReason]);
  let reason: string;
  let attempts: number;
  let deadLetteredAt: number;
  if (explicitReason !== undefined) {
    reason = explicitReason;
    attempts = headerNumber(headers[HEADER.deadLetterAttempts]) ?? 1;
    deadLetteredAt = headerNumber(headers[HEADER.deadLetteredAt]) ?? Date.now();
  } else {
    const nativeReason =
      headerString(lastDeath?.reason) ?? headerString(headers['x-first-death-reason']) ?? 'unknown';
    reason = NATIVE_REASONS[nativeReason] ?? `dead-lettered by RabbitMQ: ${nativeReason}`;
    // The delivery limit allowed exactly maxAttempts deliveries since the message was last enqueued.
    attempts =
      (headerNumber(headers[HEADER.attempts]) ?? 0) +
      (maxAttemptsFromRoutingKey(message.fields.routingKey) ?? 1);
    const seconds = headerNumber(lastDeath?.time);
    deadLetteredAt = seconds === undefined ? Date.now() : seconds * 1000;
  }
  return {
    id: received.id,
    body: received.body,
    attributes: received.attributes,
    contentType: received.contentType,
    publishedAt: received.publishedAt,
    orderingKey: received.orderingKey,
    attempts,
    reason,
    deadLetteredAt,
    native: message,
  };
}
