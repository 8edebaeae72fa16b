// Maps Omnibus messages onto AMQP properties and headers, and reads any AMQP message back, sanitised.
import { createHash } from 'node:crypto';
import { PORTABLE_RULES, WIRE, type WireName } from '@omnibus/core';
import type { OutgoingMessage, ReceivedMessage, StoredDeadLetter } from '@omnibus/core/driver';
import type { Message, MessagePropertyHeaders, Options } from 'amqplib';
import { maxAttemptsFromRoutingKey } from './broker-names.js';
import { DELIVERY_LIMIT_MARGIN } from './queue-arguments.js';

/**
 * Omnibus metadata rides in AMQP properties where one fits (`message_id`, `content_type`,
 * `timestamp`, `delivery_mode`) and in headers named by core's {@link WIRE} otherwise; the body is
 * the codec's bytes alone. User attributes are plain string headers, so a plain AMQP client sees
 * them as such. `HEADER` is the subset of `WIRE` this adapter writes, under the names it always had
 * (they were already core's spelling).
 */
export const HEADER = {
  /** Epoch ms of the original send (the `timestamp` property only has seconds). */
  publishedAt: WIRE.publishedAt,
  /** The ordering key a producer gave (RabbitMQ doesn't order by it: `ordering` is false; kept on copies). */
  orderingKey: WIRE.orderingKey,
  /** Deliveries a message had before it was re-enqueued through a delay queue, which restarts `x-delivery-count`. */
  attempts: WIRE.attempts,
  /** On a dead letter: why, as core (or `msg.deadLetter(reason)`) said it. */
  deadLetterReason: WIRE.deadLetterReason,
  /** On a dead letter: the deliveries a handler got. */
  deadLetterAttempts: WIRE.deadLetterAttempts,
  /** On a dead letter: when it was dead-lettered, epoch ms. */
  deadLetteredAt: WIRE.deadLetteredAt,
  /** W3C trace context, under the name OpenTelemetry's AMQP instrumentations use. */
  traceparent: WIRE.traceparent,
  /** Times the message was redriven from its DLQ: carried by every copy, set one higher by a redrive. */
  redrives: WIRE.redrives,
} as const satisfies Readonly<Record<string, WireName>>;

/** Headers a copy drops and sets again: the attempt count and the dead-letter record (the redrive count is kept). */
const RESET_ON_COPY: ReadonlySet<string> = new Set([
  WIRE.attempts,
  WIRE.deadLetterReason,
  WIRE.deadLetterAttempts,
  WIRE.deadLetteredAt,
]);

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

/** Longest attribute value taken from a plain client's header, in UTF-8 bytes (core's portable limit). */
const ATTRIBUTE_VALUE_MAX_BYTES = 1024;
/** Longest attribute name taken from a header (core's portable limit). */
const ATTRIBUTE_NAME_MAX_LENGTH = 128;
/** At most this many attributes are read from one message's headers. */
const MAX_ATTRIBUTES = 64;
/**
 * An id taken from `message_id` as it is: core's portable rule, 1–128 printable ASCII characters
 * without spaces (what Omnibus's producers send, and what Redis keeps); any other is replaced by a
 * derived id.
 */
const PORTABLE_ID = new RegExp(`^[\\x21-\\x7e]{1,${PORTABLE_RULES.idMaxLength}}$`);
/** Deliveries a header may claim; above it the value is not a count anyone wrote on purpose. */
const MAX_COUNT = 1_000_000;
/** Latest time a Date can hold, in epoch ms. */
const MAX_EPOCH_MS = 8.64e15;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A header value from a plain client as a string attribute; tables, arrays and binary that isn't UTF-8 don't fit and are left out. */
function headerString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    return Buffer.byteLength(text) === value.length && !text.includes('\ufffd') ? text : undefined;
  }
  return undefined;
}

/** A finite number from a header (number, bigint, numeric string, amqplib's typed value), else undefined. */
function headerNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return headerNumber(Number(value));
  if (typeof value === 'string' && value.trim() !== '' && value.length < 32)
    return headerNumber(Number(value));
  // amqplib decodes typed table values (timestamps) as { '!': type, value }.
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value) {
    const inner = (value as { value: unknown }).value;
    return typeof inner === 'object' ? undefined : headerNumber(inner);
  }
  return undefined;
}

/** A delivery count from a header: a whole number from 0 to {@link MAX_COUNT}, else 0 (nobody counted it). */
function headerCount(value: unknown): number {
  const count = headerNumber(value);
  return count !== undefined && Number.isInteger(count) && count >= 0 && count <= MAX_COUNT
    ? count
    : 0;
}

/** Epoch ms a Date can hold, not before 1970, else undefined. */
function epochMs(value: number | undefined): number | undefined {
  return value !== undefined && value >= 0 && value <= MAX_EPOCH_MS ? Math.floor(value) : undefined;
}

/** A short text (ordering key, content type) if it is one a producer could have set, else undefined. */
function shortText(value: unknown, maxLength: number): string | undefined {
  const text = typeof value === 'string' ? value : headerString(value);
  return text !== undefined && text !== '' && text.length <= maxLength && !CONTROL.test(text)
    ? text
    : undefined;
}

/**
 * User attributes from headers. Omnibus writes strings; a plain client may write anything an AMQP
 * table holds: numbers and booleans become strings; tables, arrays, binary that isn't UTF-8, names
 * or values over core's portable limits and control characters are left out (they stay in
 * `msg.native`), so an attribute is always something `send` could have written.
 */
export function userAttributes(headers: unknown): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (headers === undefined || headers === null || typeof headers !== 'object') return attributes;
  let count = 0;
  // for…in rather than Object.entries: this runs per delivery, and entries() allocates an array
  // per header on top of one for the list.
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    if (count >= MAX_ATTRIBUTES) break;
    const value: unknown = (headers as Record<string, unknown>)[name];
    if (isInternalHeader(name) || name === '' || name.length > ATTRIBUTE_NAME_MAX_LENGTH) continue;
    if (CONTROL.test(name)) continue;
    const text = headerString(value);
    if (text === undefined || Buffer.byteLength(text) > ATTRIBUTE_VALUE_MAX_BYTES) continue;
    if (CONTROL.test(text)) continue;
    attributes[name] = text;
    count++;
  }
  return attributes;
}

/** The headers table of a message, or an empty one when a plain client sent something else. */
function headersOf(message: Message): MessagePropertyHeaders {
  const headers: unknown = message.properties.headers;
  return typeof headers === 'object' && headers !== null && !Array.isArray(headers)
    ? (headers as MessagePropertyHeaders)
    : {};
}

/**
 * The id of a message. A plain client may send none and RabbitMQ assigns no id of its own, so the
 * adapter derives one from what stays the same across redeliveries (body, user headers,
 * properties), and so does it for an id that breaks the portable rule (spaces, non-ASCII, over 128
 * characters); the adapter sets it as `message_id` whenever it re-publishes the message.
 */
export function messageId(message: Message): string {
  const raw: unknown = message.properties.messageId;
  const id = typeof raw === 'string' ? raw : headerString(raw);
  if (id !== undefined && PORTABLE_ID.test(id)) return id;
  const hash = createHash('sha256');
  hash.update(message.content);
  const { timestamp, correlationId, type, appId } = message.properties;
  // The raw id too, when there was one that didn't fit: two such messages keep distinct ids.
  hash.update(String(message.properties.messageId ?? ''));
  const stable = Object.entries(userAttributes(headersOf(message))).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  hash.update(
    JSON.stringify([
      stable,
      headerNumber(timestamp) ?? null,
      String(correlationId ?? ''),
      String(type ?? ''),
      String(appId ?? ''),
    ]),
  );
  return `amqp-${hash.digest('hex').slice(0, 32)}`;
}

/** When the message was first sent: the adapter's ms header, else the `timestamp` property (s), else now. */
function publishedAtOf(message: Message): number {
  const fromHeader = epochMs(headerNumber(headersOf(message)[HEADER.publishedAt]));
  if (fromHeader !== undefined) return fromHeader;
  const seconds = headerNumber(message.properties.timestamp);
  return epochMs(seconds === undefined ? undefined : seconds * 1000) ?? Date.now();
}

/**
 * Deliveries so far: quorum queues count returns in `x-delivery-count` (absent on a first
 * delivery), and the adapter adds the deliveries made before the message last went through a delay
 * queue, where RabbitMQ enqueued it as a new message.
 */
export function attemptOf(message: Message): number {
  const headers = headersOf(message);
  return headerCount(headers[HEADER.attempts]) + headerCount(headers['x-delivery-count']) + 1;
}

/**
 * A delivery as core sees it. Total: whatever a plain client put in the properties and headers,
 * every field comes out as something Omnibus's own producer could have written (see
 * {@link userAttributes}; an odd id is replaced by a derived one, an out-of-range time by the
 * send time, a count nobody could have made by 0, an invalid trace context by none).
 */
export function toReceivedMessage(message: Message, handle: unknown): ReceivedMessage {
  const headers = headersOf(message);
  const traceparent = headerString(headers[HEADER.traceparent]);
  return {
    id: messageId(message),
    body: message.content,
    attributes: userAttributes(headers),
    contentType: shortText(message.properties.contentType, 255),
    publishedAt: publishedAtOf(message),
    // Never handed to core: RabbitMQ has no ordering keys (`ordering: false`, a send with one is
    // refused), and a key on a plain client's message would only make core serialise, and release
    // successors behind a retry, for an order the queue doesn't keep.
    orderingKey: undefined,
    traceparent:
      traceparent !== undefined && TRACEPARENT.test(traceparent) ? traceparent : undefined,
    attempt: attemptOf(message),
    redrives: redrivesOf(message),
    handle,
    native: message,
  };
}

/** Times the message was redriven (the adapter's header; 0 when absent or not a count). */
export function redrivesOf(message: Message): number {
  return headerCount(headersOf(message)[HEADER.redrives]);
}

/**
 * Options to publish a dead letter back to its subscription: a copy (see {@link republishOptions})
 * whose attempts start over, since the attempt header and `x-delivery-count` are not copied, and
 * whose redrive count is one higher.
 */
export function redriveOptions(message: Message): Options.Publish {
  const options = republishOptions(message, { [HEADER.redrives]: redrivesOf(message) + 1 });
  options.mandatory = true;
  return options;
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
  for (const [name, value] of Object.entries(headersOf(message))) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-') || RESET_ON_COPY.has(lower)) continue;
    headers[name] = encodable(value);
  }
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

/**
 * A header value amqplib can encode again. It decodes a 64-bit integer into a Number, which may
 * round to 2^63, and then fails to write it back as one (RangeError): such numbers go back as doubles.
 */
function encodable(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) >= 2 ** 63 ? { '!': 'double', value } : value;
  }
  if (typeof value === 'bigint') return encodable(Number(value));
  if (Array.isArray(value)) return value.map(encodable);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    if (Object.hasOwn(value, '!')) return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, encodable(inner)]));
  }
  return value;
}

/** Text for the reasons RabbitMQ itself records in `x-death` when it dead-letters a message. */
const NATIVE_REASONS: Readonly<Record<string, string>> = {
  delivery_limit:
    'delivery limit reached (x-delivery-limit, the backstop set 10 deliveries above maxAttempts): consumers kept dying before they could dead-letter it',
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
  const headers = headersOf(message);
  const received = toReceivedMessage(message, undefined);
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as unknown[]) : [];
  // Most recent first: a message that went through a delay queue also has an `expired` record.
  const lastDeath =
    typeof deaths[0] === 'object' && deaths[0] !== null ? (deaths[0] as DeathRecord) : undefined;
  const explicitReason = headerString(headers[HEADER.deadLetterReason]);
  let reason: string;
  let attempts: number;
  let deadLetteredAt: number;
  if (explicitReason !== undefined) {
    reason = explicitReason;
    attempts = headerCount(headers[HEADER.deadLetterAttempts]);
    deadLetteredAt = epochMs(headerNumber(headers[HEADER.deadLetteredAt])) ?? Date.now();
  } else {
    const nativeReason =
      headerString(lastDeath?.reason) ?? headerString(headers['x-first-death-reason']) ?? 'unknown';
    reason = NATIVE_REASONS[nativeReason] ?? `dead-lettered by RabbitMQ: ${nativeReason}`;
    // The delivery limit (maxAttempts + margin) allowed one delivery more than it counts returns,
    // since the message was last enqueued.
    const maxAttempts = maxAttemptsFromRoutingKey(message.fields.routingKey);
    attempts =
      headerCount(headers[HEADER.attempts]) +
      (maxAttempts === undefined ? 1 : maxAttempts + DELIVERY_LIMIT_MARGIN + 1);
    const seconds = headerNumber(lastDeath?.time);
    deadLetteredAt = epochMs(seconds === undefined ? undefined : seconds * 1000) ?? Date.now();
  }
  return {
    id: received.id,
    body: received.body,
    attributes: received.attributes,
    contentType: received.contentType,
    publishedAt: received.publishedAt,
    orderingKey: shortText(headers[HEADER.orderingKey], 128),
    attempts,
    reason,
    deadLetteredAt,
    redrives: received.redrives,
    native: message,
  };
}
