// Sizes a message's AMQP header frame before it is written, so a message that can never be sent fails without I/O.
import type { Options } from 'amqplib';

/**
 * amqplib encodes a header table into a 64 KiB scratch buffer and throws past it, whatever the
 * frame size; RabbitMQ closes the whole connection (501 FRAME_ERROR) when a header frame exceeds
 * the negotiated `frame_max`. Both are checked before writing.
 */
export const HEADER_TABLE_MAX_BYTES = 65_536;

/** Frame type, channel and size (7 bytes), the frame end (1), class, weight, body size and flags (14). */
const HEADER_FRAME_OVERHEAD = 7 + 1 + 14;

const SHORT_STRING_PROPERTIES = [
  'contentType',
  'contentEncoding',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'type',
  'userId',
  'appId',
] as const;

/** Bytes of the encoded header frame and of its headers table, as amqplib will write them. */
export function headerFrameSize(options: Options.Publish): { frame: number; table: number } {
  let frame = HEADER_FRAME_OVERHEAD;
  for (const name of SHORT_STRING_PROPERTIES) {
    const value: unknown = options[name];
    if (value !== undefined && value !== null) frame += 1 + Buffer.byteLength(String(value));
  }
  if (options.persistent !== undefined || options.deliveryMode !== undefined) frame += 1;
  if (options.priority !== undefined) frame += 1;
  if (options.timestamp !== undefined) frame += 8;
  const table = options.headers === undefined ? 0 : tableSize(options.headers);
  return { frame: frame + table, table };
}

function tableSize(table: Record<string, unknown>): number {
  let size = 4;
  for (const key in table) {
    const value = table[key];
    if (value === undefined) continue;
    size += 1 + Buffer.byteLength(key) + fieldSize(value);
  }
  return size;
}

/** One tagged field value, mirroring amqplib's choice of type for a JS value. */
function fieldSize(value: unknown): number {
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'boolean') return 2;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 9;
    if (value >= -128 && value < 128) return 2;
    if (value >= -0x8000 && value < 0x8000) return 3;
    if (value >= -0x80000000 && value < 0x80000000) return 5;
    return 9;
  }
  if (value === null) return 1;
  if (Buffer.isBuffer(value)) return 5 + value.length;
  if (Array.isArray(value))
    return 1 + value.reduce((sum: number, item) => sum + fieldSize(item), 4);
  if (typeof value === 'object') {
    // amqplib's typed values ({ '!': 'timestamp', value }): numbers take at most 8 bytes after the tag.
    if (Object.hasOwn(value, '!')) {
      const inner = (value as { value?: unknown }).value;
      return typeof inner === 'string' || Buffer.isBuffer(inner) ? fieldSize(inner) : 9;
    }
    return 1 + tableSize(value as Record<string, unknown>);
  }
  return 9;
}

/**
 * Makes a re-published copy (dead letter, retry, release) fit one header frame: drops the largest
 * headers a plain client added first, then shortens the dead-letter reason. Omnibus's own headers
 * are small; a foreign message near the frame limit plus a reason would otherwise never move and
 * stall its subscription. Returns the names of the headers dropped.
 */
export function shrinkToFit(
  options: Options.Publish,
  frameLimit: number,
  keep: (name: string) => boolean,
  shorten: string,
): string[] {
  const headers = options.headers as Record<string, unknown> | undefined;
  const dropped: string[] = [];
  if (headers === undefined) return dropped;
  const fits = () => {
    const size = headerFrameSize(options);
    return size.frame <= frameLimit && size.table <= HEADER_TABLE_MAX_BYTES;
  };
  const removable = Object.keys(headers)
    .filter((name) => !keep(name))
    .sort((a, b) => fieldSize(headers[b]) - fieldSize(headers[a]));
  for (const name of removable) {
    if (fits()) return dropped;
    delete headers[name];
    dropped.push(name);
  }
  const text = headers[shorten];
  if (!fits() && typeof text === 'string') {
    const over =
      Math.max(
        headerFrameSize(options).frame - frameLimit,
        headerFrameSize(options).table - HEADER_TABLE_MAX_BYTES,
      ) + 64;
    const bytes = Buffer.from(text);
    headers[shorten] =
      `${bytes.subarray(0, Math.max(0, bytes.length - over)).toString('utf8')}… (shortened to fit one AMQP frame)`;
  }
  return dropped;
}
