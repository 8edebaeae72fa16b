// Message ids: UUIDv7, time-ordered, with random bytes drawn from a pool.
import { getRandomValues } from 'node:crypto';
import { v7 } from 'uuid';

// uuid's own v7 asks the OS for 16 random bytes per id, which dominated a profile of send; we
// draw them from a pool refilled 64 KiB at a time and keep v7's monotonic (ms, counter) state here.
const pool = new Uint8Array(65_536);
let offset = pool.length;
let lastMs = Number.NEGATIVE_INFINITY;
let sequence = 0;

/** A new UUIDv7: time-ordered, monotonic within this process. */
export function newMessageId(): string {
  if (offset === pool.length) {
    getRandomValues(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    sequence = (sequence + 1) | 0;
    if (sequence === 0) lastMs++;
  }
  return v7({ msecs: lastMs, seq: sequence, random });
}
