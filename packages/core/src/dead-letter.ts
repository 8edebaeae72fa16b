// The public DeadLetter, built from what a driver stored: one conversion for peek and select.

import { decodeBody } from './codec.js';
import type { StoredDeadLetter } from './driver.js';
import type { DeadLetter } from './types.js';

/** A stored dead letter as users see it: body decoded where it can be, `redrives` 0 when absent. */
export function toDeadLetter<T>(stored: StoredDeadLetter): DeadLetter<T> {
  let body: T | Uint8Array;
  try {
    body = decodeBody(stored.body, stored.contentType) as T;
  } catch {
    // Undecodable bodies are often why the message is here: hand back the bytes.
    body = stored.body;
  }
  return {
    id: stored.id,
    body,
    attributes: stored.attributes,
    attempts: stored.attempts,
    reason: stored.reason,
    deadLetteredAt: new Date(stored.deadLetteredAt),
    publishedAt: new Date(stored.publishedAt),
    orderingKey: stored.orderingKey,
    redrives: wholeCount(stored.redrives),
    native: stored.native,
  };
}

/** A count read off the wire: a whole number ≥ 0, else 0 (as WIRE says for values that don't parse). */
function wholeCount(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}
