// Message ids: UUIDv7 (RFC 9562), time-ordered and monotonic within the process, formatted here.
import { getRandomValues } from 'node:crypto';

// Per id, uuid's v7 allocated a 16-byte array and built its text from 20 concatenations and a
// lowercase copy, and asking the OS for random bytes cost more still: together they were an eighth
// of a send → ack profile. Random bytes come from a pool refilled 64 KiB at a time; the text is
// written as character codes into one reused array and made into a string in one call.
const pool = new Uint8Array(65_536);
let offset = pool.length;
let lastMs = Number.NEGATIVE_INFINITY;
let sequence = 0;

const HEX = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
/** The text of the last id, as character codes: dashes stay put, the timestamp changes per ms. */
const text = Array.from('00000000-0000-7000-8000-000000000000', (char) => char.charCodeAt(0));
/** Where each of the 16 bytes starts in the text. */
const POSITION = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The millisecond the timestamp digits in `text` spell. */
let writtenMs = Number.NEGATIVE_INFINITY;

function writeByte(index: number, byte: number): void {
  const position = POSITION[index]!;
  text[position] = HEX[byte >>> 4]!;
  text[position + 1] = HEX[byte & 0x0f]!;
}

/**
 * A new UUIDv7: a 48-bit Unix-ms timestamp, then a 32-bit counter seeded at random each ms and
 * incremented within it (RFC 9562 §6.2 method 1, the layout of uuid's `v7`), then 42 random bits;
 * ids from this process sort in the order they were made. `now` lets a batch share one clock read.
 */
export function newMessageId(now: number = Date.now()): string {
  if (offset === pool.length) {
    getRandomValues(pool);
    offset = 0;
  }
  if (now > lastMs) {
    lastMs = now;
    sequence =
      ((pool[offset + 6]! & 0x7f) << 24) |
      (pool[offset + 7]! << 16) |
      (pool[offset + 8]! << 8) |
      pool[offset + 9]!;
  } else {
    sequence = (sequence + 1) | 0;
    // The counter wrapped: borrow the next millisecond, as uuid does, to stay monotonic.
    if (sequence === 0) lastMs++;
  }
  if (lastMs !== writtenMs) {
    writtenMs = lastMs;
    // Bit operators work on 32 bits: the upper 16 of the 48-bit timestamp come by division.
    const upper = Math.floor(lastMs / 0x1_0000_0000);
    writeByte(0, (upper >>> 8) & 0xff);
    writeByte(1, upper & 0xff);
    writeByte(2, (lastMs >>> 24) & 0xff);
    writeByte(3, (lastMs >>> 16) & 0xff);
    writeByte(4, (lastMs >>> 8) & 0xff);
    writeByte(5, lastMs & 0xff);
  }
  writeByte(6, 0x70 | ((sequence >>> 28) & 0x0f)); // version 7
  writeByte(7, (sequence >>> 20) & 0xff);
  writeByte(8, 0x80 | ((sequence >>> 14) & 0x3f)); // variant 10
  writeByte(9, (sequence >>> 6) & 0xff);
  writeByte(10, ((sequence << 2) & 0xff) | (pool[offset + 10]! & 0x03));
  for (let index = 11; index < 16; index++) writeByte(index, pool[offset + index]!);
  offset += 16;
  return String.fromCharCode(...text);
}
