// How a message is laid out in a stream entry, and how an entry (anyone's) is read back.
import { PORTABLE_RULES, WIRE } from '@omnibus/core';
import type { OutgoingMessage, ReceivedMessage, StoredDeadLetter } from '@omnibus/core/driver';

/**
 * How a message is laid out in a stream entry. The body is the `body` field, the codec's bytes
 * alone; Omnibus metadata rides in fields named by core's {@link WIRE} (`omnibus-*`, and
 * `traceparent`); every other field is a user attribute. So a plain client's
 * `XADD orders * body '{"item":"x"}' source web` is consumed as body + attribute `source`, and a
 * plain `XREAD` of what Omnibus sent sees the body and the attributes as fields. Entries written
 * before v2 (`omnibus-ts`, `omnibus-key`, `omnibus-attempt`, `omnibus-type`, `omnibus-trace`) are
 * read as a plain client's: those fields are unknown and ignored.
 */
export const FIELD = {
  /** The codec's bytes: the one field a plain client's entry needs. */
  body: 'body',
  ...WIRE,
} as const;

/**
 * A user attribute named like a field that is not `omnibus-*` (`body`, `traceparent`) is stored
 * under this prefix instead.
 */
const ESCAPED_ATTRIBUTE = 'omnibus-attr-';
const OMNIBUS = 'omnibus-';
const DEFAULT_CONTENT_TYPE = 'application/json';

/** Stream entry fields (name, value, name, value…) of an outgoing message. */
export function encodeFields(message: OutgoingMessage): (string | Buffer)[] {
  const body = message.body;
  const fields: (string | Buffer)[] = [
    FIELD.body,
    Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    FIELD.id,
    message.id,
    FIELD.publishedAt,
    String(message.publishedAt),
  ];
  // JSON is what an entry without a type means (as for a plain client's entries): saying so on
  // every message would cost two more fields per entry on the hottest path.
  if (message.contentType !== DEFAULT_CONTENT_TYPE)
    fields.push(FIELD.contentType, message.contentType);
  if (message.orderingKey !== undefined) fields.push(FIELD.orderingKey, message.orderingKey);
  if (message.traceparent !== undefined) fields.push(FIELD.traceparent, message.traceparent);
  for (const name in message.attributes) {
    const escaped = name === FIELD.body || name === FIELD.traceparent;
    fields.push(escaped ? ESCAPED_ATTRIBUTE + name : name, message.attributes[name]!);
  }
  return fields;
}

/** What a stream entry says, before it becomes a received message or a dead letter. */
export interface DecodedEntry {
  id: string;
  body: Uint8Array;
  attributes: Record<string, string>;
  contentType: string | undefined;
  publishedAt: number;
  orderingKey: string | undefined;
  traceparent: string | undefined;
  /** Other `omnibus-*` fields (dead-letter metadata), when there are any. */
  meta: Record<string, string> | undefined;
}

const EMPTY = new Uint8Array(0);

/*
 * Any plain client can XADD anything, so every Omnibus field is checked against what Omnibus itself
 * writes; one that fails is dropped (or replaced by what the stream id says), never trusted: a
 * foreign entry is delivered with sane metadata, and its body decides the rest (core dead-letters
 * what it cannot decode). The same rules hold in the Lua scripts (`carry_fields`, `carried_attempt`).
 */
const TOKEN = new RegExp(`^[\\x21-\\x7e]{1,${PORTABLE_RULES.idMaxLength}}$`);
const DIGITS = /^[0-9]{1,16}$/;
/** The largest epoch ms a `Date` can hold. */
const MAX_DATE_MS = 8.64e15;
const CONTENT_TYPE = /^[\x21-\x7e]+\/[\x20-\x7e]{1,250}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** Attempts an Omnibus write can carry: core never asks for more than 1000 (with margin here). */
const ATTEMPT = /^[0-9]{1,6}$/;

/** Epoch ms from a decimal string Omnibus wrote, or NaN when it isn't one a `Date` can hold. */
function epochMs(text: string): number {
  if (!DIGITS.test(text)) return Number.NaN;
  const value = Number(text);
  return value <= MAX_DATE_MS ? value : Number.NaN;
}

/** The attempts an `omnibus-attempts` value carries; 0 for anything Omnibus would not have written. */
export function carriedAttempt(text: string): number {
  return ATTEMPT.test(text) ? Number(text) : 0;
}

/** The redrive count an `omnibus-redrives` value carries; 0 when absent or not what Omnibus writes. */
export function carriedRedrives(text: string | undefined): number {
  return text === undefined ? 0 : carriedAttempt(text);
}

/** Decodes entry fields read as buffers. `streamId` stands in for a missing or unusable id and publish time. */
export function decodeEntry(
  streamId: string,
  fields: readonly Buffer[],
  start = 0,
  end = fields.length,
): DecodedEntry {
  const entry: DecodedEntry = {
    id: streamId,
    body: EMPTY,
    attributes: {},
    contentType: undefined,
    publishedAt: Number.NaN,
    orderingKey: undefined,
    traceparent: undefined,
    meta: undefined,
  };
  let hasId = false;
  for (let index = start; index + 1 < end; index += 2) {
    const rawName = fields[index]!;
    const value = fields[index + 1]!;
    // Field names and Omnibus metadata are ASCII: latin1 decodes them faster than UTF-8.
    const name = rawName.toString('latin1');
    if (name === FIELD.body) {
      entry.body = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    } else if (name === FIELD.traceparent) {
      const traceparent = value.toString('latin1');
      entry.traceparent = TRACEPARENT.test(traceparent) ? traceparent : undefined;
    } else if (!name.startsWith(OMNIBUS)) {
      entry.attributes[rawName.toString()] = value.toString();
    } else if (name === FIELD.id) {
      // The first usable one wins, as in the scripts' copies.
      const id = value.toString('latin1');
      if (!hasId && TOKEN.test(id)) {
        entry.id = id;
        hasId = true;
      }
    } else if (name === FIELD.contentType) {
      const type = value.toString('latin1');
      entry.contentType = CONTENT_TYPE.test(type) ? type : undefined;
    } else if (name === FIELD.publishedAt) {
      if (Number.isNaN(entry.publishedAt)) entry.publishedAt = epochMs(value.toString('latin1'));
    } else if (name === FIELD.orderingKey) {
      const key = value.toString('latin1');
      entry.orderingKey = TOKEN.test(key) ? key : undefined;
    } else if (name.startsWith(ESCAPED_ATTRIBUTE)) {
      entry.attributes[rawName.toString().slice(ESCAPED_ATTRIBUTE.length)] = value.toString();
    } else {
      entry.meta ??= {};
      entry.meta[name] = value.toString();
    }
  }
  if (Number.isNaN(entry.publishedAt)) {
    // An explicit stream id may lie beyond what a Date holds: then the time of reading is the best guess.
    const added = streamIdTime(streamId);
    entry.publishedAt = added <= MAX_DATE_MS ? added : Date.now();
  }
  return entry;
}

/** Milliseconds part of a stream id (`1700000000000-0`): when the entry was added. */
export function streamIdTime(streamId: string): number {
  const dash = streamId.indexOf('-');
  return Number(dash === -1 ? streamId : streamId.slice(0, dash));
}

/** What the driver needs to settle a delivery. */
export interface DeliveryHandle {
  /** 0: the topic stream, 1: the subscription's retry stream. */
  readonly stream: 0 | 1;
  readonly id: string;
  /** Delivery count of this entry when it was handed out (XPENDING), to spot a stale holder. */
  readonly deliveries: number;
}

/** `msg.native`: the stream entry as Redis holds it. */
export interface RedisNativeMessage {
  /** The key of the stream the entry was read from (topic stream, retry stream or DLQ). */
  readonly stream: string;
  /** The entry's stream id (`1700000000000-0`). */
  readonly id: string;
  /** Field names and values, alternating, as Redis returned them. */
  readonly fields: readonly Buffer[];
}

export function toReceivedMessage(
  entry: DecodedEntry,
  attempt: number,
  handle: DeliveryHandle,
  native: RedisNativeMessage,
): ReceivedMessage {
  return {
    id: entry.id,
    body: entry.body,
    attributes: entry.attributes,
    contentType: entry.contentType,
    publishedAt: entry.publishedAt,
    orderingKey: entry.orderingKey,
    traceparent: entry.traceparent,
    attempt,
    redrives: carriedRedrives(entry.meta?.[FIELD.redrives]),
    handle,
    native,
  };
}

export function toDeadLetter(entry: DecodedEntry, native: RedisNativeMessage): StoredDeadLetter {
  return {
    id: entry.id,
    body: entry.body,
    attributes: entry.attributes,
    contentType: entry.contentType,
    publishedAt: entry.publishedAt,
    orderingKey: entry.orderingKey,
    attempts: carriedAttempt(entry.meta?.[FIELD.deadLetterAttempts] ?? '0'),
    reason: entry.meta?.[FIELD.deadLetterReason] ?? '',
    deadLetteredAt: deadLetteredAt(entry.meta?.[FIELD.deadLetteredAt], native.id),
    redrives: carriedRedrives(entry.meta?.[FIELD.redrives]),
    native,
  };
}

function deadLetteredAt(text: string | undefined, streamId: string): number {
  const value = text === undefined ? Number.NaN : epochMs(text);
  if (!Number.isNaN(value)) return value;
  const added = streamIdTime(streamId);
  return added <= MAX_DATE_MS ? added : 0;
}
