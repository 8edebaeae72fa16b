// Omnibus messages to SQS/SNS entries and back: one packed metadata attribute, text or base64 bodies, SNS envelopes.
import { WIRE } from '@omnibus/core';
import type { OutgoingMessage, ReceivedMessage } from '@omnibus/core/driver';

/**
 * The one message attribute holding Omnibus metadata, a JSON object keyed by {@link WIRE} names.
 * SQS carries 10 message attributes and SNS raw delivery silently drops a message with more; the
 * portable rules leave Omnibus 2: this one, and `traceparent` (its own attribute, so tracing tools
 * find it where W3C puts it).
 */
export const METADATA_ATTRIBUTE = 'omnibus';

/** Keys of the metadata object that only this adapter writes (the rest are {@link WIRE} names). */
export const SQS_WIRE = {
  /** `base64`: the body travels base64 (it was not valid XML text); `empty`: the body is empty (SQS needs 1 character). */
  encoding: 'omnibus-encoding',
  /** Fan-out delayed publish: epoch ms before which no handler may see the message. */
  notBefore: 'omnibus-not-before',
} as const;

/** Metadata as carried: WIRE name → string. */
export type Metadata = Record<string, string>;

/** A message attribute as the SQS and SNS SDKs take it. */
export interface StringAttribute {
  DataType: 'String';
  StringValue: string;
}

/** What SQS SendMessage(Batch) and SNS PublishBatch take for one message. */
export interface EncodedMessage {
  readonly body: string;
  readonly attributes: Record<string, StringAttribute>;
  /** Body plus attribute names, types and values, in bytes, as SQS and SNS count them. */
  readonly bytes: number;
}

// XML 1.0 characters: SQS and SNS reject anything else in a body.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the XML 1.0 ranges are the rule.
const XML_TEXT = /^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as SQS text: itself when it is valid UTF-8 XML text, else base64 (flagged in the metadata). */
function bodyText(body: Uint8Array, metadata: Metadata): string {
  if (body.byteLength === 0) {
    metadata[SQS_WIRE.encoding] = 'empty';
    return '-';
  }
  try {
    const text = utf8.decode(body);
    // A BOM would be dropped by a round trip through text; such bodies travel base64.
    if (XML_TEXT.test(text) && text.charCodeAt(0) !== 0xfeff) return text;
  } catch {
    // not UTF-8: base64 below
  }
  metadata[SQS_WIRE.encoding] = 'base64';
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
}

/** The metadata a fresh publish carries. */
export function metadataOf(message: OutgoingMessage, fifo: boolean): Metadata {
  const metadata: Metadata = {
    [WIRE.id]: message.id,
    [WIRE.publishedAt]: String(message.publishedAt),
  };
  if (message.contentType !== 'application/json') metadata[WIRE.contentType] = message.contentType;
  // FIFO carries the key as MessageGroupId; a standard queue has no slot for it.
  if (message.orderingKey !== undefined && !fifo) metadata[WIRE.orderingKey] = message.orderingKey;
  return metadata;
}

/** Encodes a body, user attributes, metadata and trace context as one SQS/SNS message. */
export function encode(
  body: Uint8Array,
  userAttributes: Readonly<Record<string, string>>,
  metadata: Metadata,
  traceparent: string | undefined,
): EncodedMessage {
  const packed: Metadata = { ...metadata };
  delete packed[SQS_WIRE.encoding];
  const text = bodyText(body, packed);
  const attributes: Record<string, StringAttribute> = {};
  let bytes = Buffer.byteLength(text);
  const add = (name: string, value: string) => {
    attributes[name] = { DataType: 'String', StringValue: value };
    bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  };
  for (const [name, value] of Object.entries(userAttributes)) add(name, value);
  add(METADATA_ATTRIBUTE, JSON.stringify(packed));
  if (traceparent !== undefined) add(WIRE.traceparent, traceparent);
  return { body: text, attributes, bytes };
}

/** An SQS message as ReceiveMessage returns it (the fields the adapter reads). */
export interface SqsMessage {
  MessageId?: string | undefined;
  ReceiptHandle?: string | undefined;
  Body?: string | undefined;
  Attributes?: Partial<Record<string, string>> | undefined;
  MessageAttributes?:
    | Record<string, { StringValue?: string | undefined; DataType?: string | undefined }>
    | undefined;
}

/** A received SQS message read back: what core needs, and what the adapter needs to copy it. */
export interface DecodedMessage {
  readonly id: string;
  readonly body: Uint8Array;
  readonly attributes: Record<string, string>;
  readonly contentType: string | undefined;
  readonly publishedAt: number;
  readonly orderingKey: string | undefined;
  readonly traceparent: string | undefined;
  /** The metadata object as received ({@link WIRE} names), empty for a message a plain client sent. */
  readonly metadata: Metadata;
  /** Deliveries counted before this copy was written (`WIRE.attempts`). */
  readonly attemptOffset: number;
  readonly redrives: number;
}

/** A decimal the metadata carries, or `undefined` when absent or not a number. */
export function metadataNumber(metadata: Metadata, key: string): number | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function parseMetadata(text: string | undefined): Metadata | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const metadata: Metadata = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') metadata[key] = value;
    }
    return metadata;
  } catch {
    return undefined;
  }
}

/**
 * The SNS notification envelope of a subscription without raw delivery, recognised only in its full
 * shape (go-cloud's rule), so a sender can't forge metadata by sending JSON that looks like one.
 */
interface SnsEnvelope {
  Type: 'Notification';
  MessageId: string;
  TopicArn: string;
  Timestamp: string;
  Message: string;
  MessageAttributes?: Record<string, { Type?: string; Value?: string }>;
}

function snsEnvelope(body: string, topicArn: string | undefined): SnsEnvelope | undefined {
  if (!body.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const candidate = parsed as Partial<SnsEnvelope> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    candidate.Type !== 'Notification' ||
    typeof candidate.MessageId !== 'string' ||
    typeof candidate.TopicArn !== 'string' ||
    typeof candidate.Timestamp !== 'string' ||
    typeof candidate.Message !== 'string' ||
    (topicArn !== undefined && candidate.TopicArn !== topicArn)
  )
    return undefined;
  return candidate as SnsEnvelope;
}

/** Reads an SQS message back; `topicArn` (fan-out) is the only topic whose envelope is unwrapped. */
export function decode(message: SqsMessage, topicArn: string | undefined): DecodedMessage {
  let text = message.Body ?? '';
  let attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  let sentAt = Number(message.Attributes?.SentTimestamp);
  let id = message.MessageId ?? '';
  if (attributes[METADATA_ATTRIBUTE] === undefined) {
    const envelope = snsEnvelope(text, topicArn);
    if (envelope !== undefined) {
      text = envelope.Message;
      id = envelope.MessageId;
      sentAt = Date.parse(envelope.Timestamp);
      attributes = {};
      for (const [name, value] of Object.entries(envelope.MessageAttributes ?? {})) {
        if (typeof value.Value === 'string' && value.Type === 'String')
          attributes[name] = value.Value;
      }
    }
  }
  const metadata = parseMetadata(attributes[METADATA_ATTRIBUTE]) ?? {};
  const traceparent = attributes[WIRE.traceparent];
  delete attributes[METADATA_ATTRIBUTE];
  delete attributes[WIRE.traceparent];
  const encoding = metadata[SQS_WIRE.encoding];
  const body =
    encoding === 'empty'
      ? new Uint8Array(0)
      : encoding === 'base64'
        ? new Uint8Array(Buffer.from(text, 'base64'))
        : new TextEncoder().encode(text);
  const publishedAt = metadataNumber(metadata, WIRE.publishedAt) ?? sentAt;
  return {
    id: metadata[WIRE.id] ?? id,
    body,
    attributes,
    contentType:
      metadata[WIRE.contentType] ??
      (metadata[WIRE.id] !== undefined ? 'application/json' : undefined),
    publishedAt: Number.isFinite(publishedAt) ? publishedAt : Date.now(),
    // A FIFO dead letter travels in a group of its own and carries its key in the metadata.
    orderingKey: metadata[WIRE.orderingKey] ?? message.Attributes?.MessageGroupId,
    traceparent,
    metadata,
    attemptOffset: Math.max(0, Math.floor(metadataNumber(metadata, WIRE.attempts) ?? 0)),
    redrives: Math.max(0, Math.floor(metadataNumber(metadata, WIRE.redrives) ?? 0)),
  };
}

/** The delivery count core sees: SQS's receive count plus the deliveries before this copy. */
export function attemptOf(message: SqsMessage, decoded: DecodedMessage): number {
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const attempt =
    (Number.isFinite(count) && count >= 1 ? Math.floor(count) : 1) + decoded.attemptOffset;
  return Math.max(attempt, 1);
}

/** The ReceivedMessage core gets, `handle` and `native` filled in by the caller. */
export function toReceived(
  decoded: DecodedMessage,
  attempt: number,
  handle: unknown,
  native: unknown,
  fifo: boolean,
): ReceivedMessage {
  return {
    id: decoded.id,
    body: decoded.body,
    attributes: decoded.attributes,
    contentType: decoded.contentType,
    publishedAt: decoded.publishedAt,
    // On FIFO every message has a group; one the adapter made up (the message id) is not a key.
    orderingKey:
      fifo && decoded.orderingKey === decoded.id && decoded.metadata[WIRE.orderingKey] === undefined
        ? undefined
        : decoded.orderingKey,
    traceparent: decoded.traceparent,
    attempt,
    redrives: decoded.redrives,
    handle,
    native,
  };
}

/** Metadata for a copy the adapter writes itself (release, delay hop, dead letter, redrive). */
export function copyMetadata(decoded: DecodedMessage, changes: Metadata): Metadata {
  const metadata: Metadata = { ...decoded.metadata };
  metadata[WIRE.id] = decoded.id;
  metadata[WIRE.publishedAt] = String(decoded.publishedAt);
  if (decoded.contentType !== undefined && decoded.contentType !== 'application/json')
    metadata[WIRE.contentType] = decoded.contentType;
  return { ...metadata, ...changes };
}
