// Message ids: UUIDv7, time-ordered, with random bytes drawn from a pool.
import { getRandomValues } from 'node:crypto';
import { v7 } from 'uuid';

// uuid's own v7 asks the OS for 16 random bytes per id, which dominated a profile of send; we
// draw them from a pool refilled 64 KiB at a time and keep v7's monotonic (ms, counter) state here.
const pool = new Uint8Array(65_536);
let offset = pool.length;
let lastMs = Number.NEGATIVE_INFINITY;
let sequence = 0;
// Given msecs and seq, v7 reads only bytes 10–15 of `random` (and copies them): one holder and one
// options object serve every id, so an id allocates no view of the pool and no options of its own.
const random = new Uint8Array(16);
const v7Options = { msecs: 0, seq: 0, random };

/** A new UUIDv7: time-ordered, monotonic within this process. */
export function newMessageId(): string {
  if (offset === pool.length) {
    getRandomValues(pool);
    offset = 0;
  }
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence =
      ((pool[offset + 6]! & 0x7f) << 24) |
      (pool[offset + 7]! << 16) |
      (pool[offset + 8]! << 8) |
      pool[offset + 9]!;
  } else {
    sequence = (sequence + 1) | 0;
    if (sequence === 0) lastMs++;
  }
  for (let index = 10; index < 16; index++) random[index] = pool[offset + index]!;
  offset += 16;
  v7Options.msecs = lastMs;
  v7Options.seq = sequence;
  return v7(v7Options);
}
