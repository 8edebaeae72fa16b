// Batch-shaped driver calls: chunks within the driver's declared limit, and per-entry retries of a BatchResult.
import { OPERATION_RETRY, pause, type RetryBudget, retryDelay, withRetries } from './backoff.js';
import type { BatchLimit, BatchResult, OutgoingMessage } from './driver.js';
import type { OmnibusError } from './errors.js';

/** Told once per entry, as soon as its fate is known: `error` undefined when the entry landed. */
export type EntryDone = (index: number, error: OmnibusError | undefined) => void;

/**
 * Calls `call` with `entries` (already within the driver's batch limit) and follows the
 * {@link BatchResult} contract:
 * - a throw means the fate of the whole call is unknown: the same entries are sent again while the
 *   error is retryable and the budget allows (at least once), as {@link withRetries} does;
 * - entries a result lists as failed certainly did not land: those whose classified error is
 *   retryable are sent again, alone (without the entries that landed), after a backoff and within
 *   the same budget; the others fail at once.
 *
 * Never rejects: every entry's outcome goes to `done`, by its index in `entries`, which lets a
 * caller resolve each of its own requests as soon as its entries landed.
 */
export async function callBatch<E>(
  entries: readonly E[],
  call: (entries: readonly E[]) => Promise<BatchResult | undefined>,
  wrap: (error: unknown) => OmnibusError,
  budget: RetryBudget,
  done: EntryDone,
): Promise<void> {
  let pending = entries;
  /** Index in `entries` of each pending entry; `undefined` while they are `entries` themselves. */
  let origin: number[] | undefined;
  for (let round = 1; ; round++) {
    let result: BatchResult | undefined;
    try {
      result = await withRetries(() => call(pending), wrap, budget);
    } catch (error) {
      const wrapped = wrap(error);
      for (let index = 0; index < pending.length; index++) done(origin?.[index] ?? index, wrapped);
      return;
    }
    const failed = result?.failed;
    if (failed === undefined || failed.length === 0) {
      for (let index = 0; index < pending.length; index++)
        done(origin?.[index] ?? index, undefined);
      return;
    }
    // The failure path: allocations here are per failed call, never on the hot path.
    const errors = new Array<OmnibusError | undefined>(pending.length);
    for (const entry of failed) {
      if (Number.isInteger(entry.index) && entry.index >= 0 && entry.index < pending.length)
        errors[entry.index] = wrap(entry.error);
    }
    const retry: E[] = [];
    const retryOrigin: number[] = [];
    const retryErrors: OmnibusError[] = [];
    for (let index = 0; index < pending.length; index++) {
      const error = errors[index];
      const at = origin?.[index] ?? index;
      if (error === undefined) done(at, undefined);
      else if (!error.retryable) done(at, error);
      else {
        retry.push(pending[index]!);
        retryOrigin.push(at);
        retryErrors.push(error);
      }
    }
    if (retry.length === 0) return;
    const delay = retryDelay(OPERATION_RETRY, round);
    if (budget.signal?.aborted || Date.now() + delay >= budget.deadlineAt) {
      for (let index = 0; index < retry.length; index++)
        done(retryOrigin[index]!, retryErrors[index]);
      return;
    }
    await pause(delay, budget.signal);
    pending = retry;
    origin = retryOrigin;
  }
}

/**
 * Splits `entries` into chunks within `limit`: at most `maxMessages` each and, where the limit has
 * `maxBytes` and `bytesOf` is given, at most that many bytes (an entry larger on its own goes
 * alone). Returns `[entries]` itself when it fits.
 */
export function splitBatch<E>(
  entries: readonly E[],
  limit: BatchLimit,
  bytesOf?: (entry: E) => number,
): (readonly E[])[] {
  const maxBytes = bytesOf === undefined ? undefined : limit.maxBytes;
  const maxMessages = Math.max(1, limit.maxMessages);
  if (maxBytes === undefined && entries.length <= maxMessages) return [entries];
  const chunks: E[][] = [];
  let chunk: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = maxBytes === undefined ? 0 : bytesOf!(entry);
    if (chunk.length > 0 && (chunk.length === maxMessages || bytes + size > maxBytes!)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Sends `entries` through a settle-shaped driver call (`ack`, `nack`, `release`, `extendLease`,
 * `deadLetter`) in chunks within `limit`, one chunk after the other (brokers that requeue in call
 * order keep it), each through {@link callBatch}. Resolves once every entry landed; otherwise
 * rejects, after every chunk finished, with the error of the first entry that did not.
 */
export async function settleInBatches<E>(
  entries: readonly E[],
  limit: BatchLimit,
  call: (entries: readonly E[]) => Promise<BatchResult | undefined>,
  wrap: (error: unknown) => OmnibusError,
  budget: RetryBudget,
  bytesOf?: (entry: E) => number,
): Promise<undefined> {
  let first: OmnibusError | undefined;
  const done: EntryDone = (_index, error) => {
    if (error !== undefined) first ??= error;
  };
  for (const chunk of splitBatch(entries, limit, bytesOf))
    await callBatch(chunk, call, wrap, budget, done);
  if (first !== undefined) throw first;
  return undefined;
}

/** What a message weighs against a byte limit: body plus attribute names and values, in UTF-8 bytes. */
export function messageBytes(message: Pick<OutgoingMessage, 'body' | 'attributes'>): number {
  let bytes = message.body.byteLength;
  const attributes = message.attributes;
  for (const name in attributes)
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attributes[name]!, 'utf8');
  return bytes;
}
