// Selective DLQ admin: one paced pass over a DLQ cursor that lists, redrives or purges what a filter matches.

import { budget, pause, withRetries } from './backoff.js';
import { callBatch } from './batch-call.js';
import { toDeadLetter } from './dead-letter.js';
import type { DeadLetterCursor, DriverV2, HeldDeadLetter, SubscriptionRef } from './driver.js';
import {
  InvalidArgumentError,
  type OmnibusError,
  toOmnibusError,
  UnsupportedError,
} from './errors.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from './operation-timeout.js';
import { withTimeLimit } from './time-limit.js';
import type {
  DeadLetter,
  DeadLetterActionOptions,
  DeadLetterFilter,
  DeadLetterNotFound,
  DeadLetterOutcome,
  DeadLetterReport,
  DeadLetterResult,
  DeadLetterSelection,
  RedriveOptions,
} from './types.js';

/**
 * How long letters a run has read stay hidden from other readers where reading is a receive (SQS
 * visibility, Pub/Sub ack deadline). Every page is settled well within it: unpaced, a page takes a
 * few calls; paced, a page holds at most half of it worth of letters.
 */
const LEASE_MS = 30_000;
/** Most letters read per page (fewer where the driver's settle batch is smaller): steady progress, bounded holding. */
const PAGE_SIZE = 100;
/** The redrive-loop guard's default: a letter redriven three times and back again is refused. */
export const DEFAULT_MAX_REDRIVES = 3;

/** The DLQ a selection reads: the driver, the final names, and how errors and the bus's state are told. */
export interface DeadLetterQueue {
  readonly driver: DriverV2;
  readonly ref: SubscriptionRef;
  /** `topic/subscription` as the user named them, for error messages. */
  readonly label: string;
  readonly assertOpen: () => void;
}

/** `limit`, `maxRedrives`, …: a whole number ≥ 1, else `InvalidArgument` naming it. */
export function checkLimit(limit: unknown, name: string): void {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got ${String(limit)}`);
  }
}

/** A checked filter. */
interface Matcher {
  readonly ids: ReadonlySet<string> | undefined;
  readonly limit: number;
  matches(letter: DeadLetter<unknown>): boolean;
}

/** What a run does with each matched letter. */
type Plan =
  | { readonly kind: 'list' }
  | {
      readonly kind: 'redrive' | 'purge';
      readonly dryRun: boolean;
      readonly maxRedrives: number;
      readonly ratePerSecond: number | undefined;
      readonly onResult: ((result: DeadLetterResult) => void) | undefined;
      readonly signal: AbortSignal | undefined;
    };

type ActionPlan = Exclude<Plan, { kind: 'list' }>;

/** What a run read: letters scanned, and the ids asked for that it read the DLQ through without seeing. */
interface Scan {
  readonly scanned: number;
  readonly notFound: readonly string[];
}

/** One matched letter and what was decided for it; `undefined` outcome: to be acted on. */
interface Decision<T> {
  readonly held: HeldDeadLetter;
  readonly letter: DeadLetter<T>;
  readonly outcome: DeadLetterOutcome | undefined;
  readonly detail?: string;
}

/** `dlq.select(filter)`: each run is one pass over a fresh cursor, closed however the run ends. */
export class DeadLetterSelectionImpl<T> implements DeadLetterSelection<T> {
  private readonly queue: DeadLetterQueue;
  private readonly matcher: Matcher;

  constructor(queue: DeadLetterQueue, filter: DeadLetterFilter | undefined) {
    this.queue = queue;
    this.matcher = compileFilter(filter);
  }

  async list(): Promise<DeadLetter<T>[]> {
    const listed: DeadLetter<T>[] = [];
    await this.run({ kind: 'list' }, (letter) => listed.push(letter));
    return listed;
  }

  async redrive(options: RedriveOptions = {}): Promise<DeadLetterReport> {
    return this.act(actionPlan('redrive', options));
  }

  async purge(options: DeadLetterActionOptions = {}): Promise<DeadLetterReport> {
    return this.act(actionPlan('purge', options));
  }

  private async act(plan: ActionPlan): Promise<DeadLetterReport> {
    const results: DeadLetterResult[] = [];
    const { scanned, notFound } = await this.run(plan, undefined, (result) => {
      results.push(result);
      plan.onResult?.(result);
    });
    const count = (outcome: DeadLetterOutcome) =>
      results.filter((result) => result.outcome === outcome).length;
    return {
      results,
      scanned,
      matched: results.length,
      redriven: count('redriven'),
      purged: count('purged'),
      refused: count('refused'),
      failed: count('failed'),
      notFound: notFound.map((id): DeadLetterNotFound => ({ id, outcome: 'not-found' })),
      dryRun: plan.dryRun,
    };
  }

  /**
   * Reads the DLQ page by page, in the DLQ's order, and hands each matched letter to `listed` (list) or
   * decides and settles it, reporting each result to `report`. Returns how many letters it read,
   * and the ids of `filter.ids` it never read where it read the DLQ through.
   *
   * It acts only on letters present when it started: it stops at a letter dead-lettered after that,
   * or at one it redrove itself coming back (a consumer failing it again at once, whatever the
   * clocks say), so a run ends even while consumers keep dead-lettering.
   */
  private async run(
    plan: Plan,
    listed?: (letter: DeadLetter<T>) => void,
    report?: (result: DeadLetterResult) => void,
  ): Promise<Scan> {
    const { driver, ref } = this.queue;
    this.queue.assertOpen();
    if (driver.capabilities.deadLetterAdmin.peek === 'none') {
      throw new UnsupportedError(
        `the ${driver.name} adapter can't read dead letters one by one (capabilities.deadLetterAdmin.peek is "none")`,
        { driver: driver.name },
      );
    }
    const timeoutMs = driver.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    const wrap = (what: string) => (error: unknown) =>
      toOmnibusError(error, driver, `${what} the DLQ of ${this.queue.label} failed`);
    const signal = plan.kind === 'list' ? undefined : plan.signal;
    const pacer =
      plan.kind !== 'list' && !plan.dryRun && plan.ratePerSecond !== undefined
        ? new Pacer(plan.ratePerSecond)
        : undefined;
    const settleMax = Math.max(1, driver.capabilities.batch.settle.maxMessages);
    const pageSize = Math.min(
      settleMax,
      PAGE_SIZE,
      pacer?.lettersWithin(LEASE_MS / 2) ?? PAGE_SIZE,
    );
    const chunkSize = Math.min(pageSize, pacer?.lettersWithin(1_000) ?? pageSize);

    const startedAt = Date.now();
    const cursor = await withRetries(
      () => driver.openDeadLetters(ref, { leaseMs: LEASE_MS }),
      wrap('opening'),
      budget(timeoutMs),
    );
    // Each id this run redrove, with the redrive count its copy carries: a letter with both is
    // that copy dead-lettered again, while one with another count was in the DLQ already (the same
    // message dead-lettered twice, as at-least-once delivery allows) and is acted on too.
    const redriven = new Map<string, Set<number>>();
    const cameBack = (held: HeldDeadLetter) =>
      redriven.get(held.id)?.has(held.redrives ?? 0) === true;
    // Ids asked for that were read, matched or not: the rest are not in the DLQ once it is read through.
    const seen = new Set<string>();
    let readThrough = false;
    let scanned = 0;
    let matched = 0;
    try {
      // `ids: []` selects nothing: the cursor was opened (the DLQ exists), nothing is read.
      let more = this.matcher.ids?.size !== 0;
      while (more && !signal?.aborted) {
        // Waiting before reading, not while holding a page: held letters are settled promptly.
        await pacer?.wait(signal);
        if (signal?.aborted) break;
        this.queue.assertOpen();
        const page = await withRetries(
          () => cursor.next(pageSize),
          wrap('reading'),
          budget(timeoutMs),
        );
        if (page.length === 0) {
          readThrough = true;
          break;
        }
        const decisions: Decision<T>[] = [];
        for (const held of page) {
          if (held.deadLetteredAt > startedAt || cameBack(held)) {
            readThrough = true;
            more = false;
            break;
          }
          scanned++;
          if (this.matcher.ids?.has(held.id)) seen.add(held.id);
          const letter = toDeadLetter<T>(held);
          if (!this.matcher.matches(letter as DeadLetter<unknown>)) continue;
          matched++;
          if (plan.kind === 'list') listed?.(letter);
          else decisions.push(decide(plan, held, letter));
          // Not when every id was found: another letter may carry one of them too.
          if (matched >= this.matcher.limit) {
            more = false;
            break;
          }
        }
        if (plan.kind === 'list') continue;
        for (let start = 0; start < decisions.length; start += chunkSize) {
          const chunk = decisions.slice(start, start + chunkSize);
          const acting = chunk.filter((decision) => decision.outcome === undefined);
          if (acting.length > 0 && pacer !== undefined) {
            await pacer.wait(signal);
            if (signal?.aborted) {
              more = false;
              break;
            }
          }
          const errors = await this.settle(cursor, plan.kind, acting, wrap, timeoutMs);
          pacer?.spend(acting.length);
          for (const decision of chunk) {
            const error = errors.get(decision);
            const result = toResult(decision, plan.kind, error);
            if (result.outcome === 'redriven') {
              const counts = redriven.get(result.id) ?? new Set<number>();
              redriven.set(result.id, counts.add(result.redrives + 1));
            }
            report?.(result);
          }
        }
      }
    } finally {
      // Whatever ends the run, held letters go back as they were (SQS, Pub/Sub: visible again).
      await withTimeLimit(cursor.close(), timeoutMs, () => new Error('close timed out')).catch(
        () => undefined,
      );
    }
    const { ids } = this.matcher;
    const notFound = readThrough && ids !== undefined ? [...ids].filter((id) => !seen.has(id)) : [];
    return { scanned, notFound };
  }

  /**
   * Redrives or discards `decisions` in one call (retrying the entries the driver reports failed
   * with a retryable error, within operationTimeoutMs); returns the error of each that failed.
   */
  private async settle(
    cursor: DeadLetterCursor,
    kind: 'redrive' | 'purge',
    decisions: readonly Decision<T>[],
    wrap: (what: string) => (error: unknown) => OmnibusError,
    timeoutMs: number,
  ): Promise<Map<Decision<T>, OmnibusError>> {
    const errors = new Map<Decision<T>, OmnibusError>();
    if (decisions.length === 0) return errors;
    const call =
      kind === 'redrive'
        ? (letters: readonly HeldDeadLetter[]) => cursor.redrive(letters)
        : (letters: readonly HeldDeadLetter[]) => cursor.discard(letters);
    await callBatch(
      decisions.map((decision) => decision.held),
      call,
      wrap(kind === 'redrive' ? 'redriving a letter of' : 'purging a letter of'),
      budget(timeoutMs),
      (index, error) => {
        if (error !== undefined) errors.set(decisions[index]!, error);
      },
    );
    return errors;
  }
}

/** The loop guard and the dry run, decided before anything is changed. */
function decide<T>(plan: ActionPlan, held: HeldDeadLetter, letter: DeadLetter<T>): Decision<T> {
  if (plan.kind === 'redrive' && letter.redrives >= plan.maxRedrives) {
    return {
      held,
      letter,
      outcome: 'refused',
      detail: `redriven ${letter.redrives} time${letter.redrives === 1 ? '' : 's'} already (maxRedrives ${plan.maxRedrives}): it keeps failing, so it stays in the DLQ; fix the cause, then redrive it with a higher maxRedrives, or purge it`,
    };
  }
  if (plan.dryRun)
    return { held, letter, outcome: plan.kind === 'redrive' ? 'would-redrive' : 'would-purge' };
  return { held, letter, outcome: undefined };
}

function toResult<T>(
  decision: Decision<T>,
  kind: 'redrive' | 'purge',
  error: OmnibusError | undefined,
): DeadLetterResult {
  const { letter } = decision;
  const result: DeadLetterResult = {
    id: letter.id,
    outcome:
      decision.outcome ??
      (error !== undefined ? 'failed' : kind === 'redrive' ? 'redriven' : 'purged'),
    reason: letter.reason,
    attempts: letter.attempts,
    redrives: letter.redrives,
    deadLetteredAt: letter.deadLetteredAt,
    orderingKey: letter.orderingKey,
  };
  if (decision.detail !== undefined) result.detail = decision.detail;
  if (decision.outcome === undefined && error !== undefined) {
    result.detail = error.message;
    result.error = error;
  }
  return result;
}

/**
 * Spaces actions so that at most `ratePerSecond` letters are acted on per second on average: each
 * batch acted on pushes the next one back by its share of time. Timers only, never a busy loop.
 */
class Pacer {
  private readonly msPerLetter: number;
  private nextAt = 0;

  constructor(ratePerSecond: number) {
    this.msPerLetter = 1_000 / ratePerSecond;
  }

  /** How many letters the rate allows within `ms` (at least 1). */
  lettersWithin(ms: number): number {
    return Math.max(1, Math.floor(ms / this.msPerLetter));
  }

  /** Resolves when the next action may start (at once when aborted). */
  wait(signal: AbortSignal | undefined): Promise<void> {
    const ms = this.nextAt - Date.now();
    return ms > 0 ? pause(ms, signal) : Promise.resolve();
  }

  spend(letters: number): void {
    if (letters === 0) return;
    this.nextAt = Math.max(this.nextAt, Date.now()) + letters * this.msPerLetter;
  }
}

/** Checks a filter (before any I/O) and turns it into a matcher. */
function compileFilter(filter: DeadLetterFilter | undefined): Matcher {
  if (filter === undefined)
    return { ids: undefined, limit: Number.POSITIVE_INFINITY, matches: () => true };
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidArgumentError(
      'select(filter) takes an object: { ids?, reason?, failedBefore?, failedAfter?, where?, limit? }',
    );
  }
  rejectUnknownKeys(
    filter,
    ['ids', 'reason', 'failedBefore', 'failedAfter', 'where', 'limit'],
    'select(filter)',
  );
  const { ids, reason, failedBefore, failedAfter, where, limit } = filter;
  if (limit !== undefined) checkLimit(limit, 'filter.limit');
  let idSet: Set<string> | undefined;
  if (ids !== undefined) {
    if (!Array.isArray(ids))
      throw new InvalidArgumentError('filter.ids must be an array of message ids (strings)');
    ids.forEach((id: unknown, index) => {
      if (typeof id !== 'string' || id === '')
        throw new InvalidArgumentError(
          `filter.ids[${index}] must be a non-empty string, got ${typeof id === 'string' ? 'an empty string' : String(id)}`,
        );
    });
    idSet = new Set(ids);
  }
  let reasonTest: ((text: string) => boolean) | undefined;
  if (typeof reason === 'string') {
    if (reason === '')
      throw new InvalidArgumentError(
        'filter.reason must not be empty (leave it out to match every reason)',
      );
    const needle = reason.toLowerCase();
    reasonTest = (text) => text.toLowerCase().includes(needle);
  } else if (reason instanceof RegExp) {
    // Without g and y, test() keeps no lastIndex between letters.
    const pattern = new RegExp(reason.source, reason.flags.replace(/[gy]/g, ''));
    reasonTest = (text) => pattern.test(text);
  } else if (reason !== undefined) {
    throw new InvalidArgumentError('filter.reason must be a string or a RegExp');
  }
  const before = checkDate(failedBefore, 'filter.failedBefore');
  const after = checkDate(failedAfter, 'filter.failedAfter');
  if (before !== undefined && after !== undefined && after > before) {
    throw new InvalidArgumentError(
      `filter.failedAfter (${new Date(after).toISOString()}) is after filter.failedBefore (${new Date(before).toISOString()}): no letter could match`,
    );
  }
  if (where !== undefined && typeof where !== 'function')
    throw new InvalidArgumentError('filter.where must be a function (letter) => boolean');
  return {
    ids: idSet,
    limit: limit ?? Number.POSITIVE_INFINITY,
    matches(letter) {
      if (idSet !== undefined && !idSet.has(letter.id)) return false;
      if (reasonTest !== undefined && !reasonTest(letter.reason)) return false;
      const at = letter.deadLetteredAt.getTime();
      if (before !== undefined && !(at < before)) return false;
      if (after !== undefined && !(at >= after)) return false;
      return where === undefined || Boolean(where(letter));
    },
  };
}

function checkDate(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidArgumentError(`${name} must be a valid Date, got ${String(value)}`);
  return value.getTime();
}

/** Checks the options of a redrive or purge (before any I/O). */
function actionPlan(kind: 'redrive' | 'purge', options: RedriveOptions): ActionPlan {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError(`${kind}(options) takes an object`);
  rejectUnknownKeys(
    options,
    kind === 'redrive'
      ? ['dryRun', 'ratePerSecond', 'onResult', 'signal', 'maxRedrives']
      : ['dryRun', 'ratePerSecond', 'onResult', 'signal'],
    `${kind}(options)`,
  );
  const { dryRun, ratePerSecond, onResult, signal, maxRedrives } = options;
  if (dryRun !== undefined && typeof dryRun !== 'boolean')
    throw new InvalidArgumentError(`dryRun must be a boolean, got ${String(dryRun)}`);
  if (
    ratePerSecond !== undefined &&
    (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0)
  ) {
    throw new InvalidArgumentError(
      `ratePerSecond must be a finite number > 0 (letters per second), got ${String(ratePerSecond)}`,
    );
  }
  if (onResult !== undefined && typeof onResult !== 'function')
    throw new InvalidArgumentError('onResult must be a function (result) => void');
  if (
    signal !== undefined &&
    (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')
  ) {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  if (kind === 'redrive' && maxRedrives !== undefined) checkLimit(maxRedrives, 'maxRedrives');
  return {
    kind,
    dryRun: dryRun ?? false,
    maxRedrives: maxRedrives ?? DEFAULT_MAX_REDRIVES,
    ratePerSecond,
    onResult,
    signal,
  };
}

/**
 * A misspelt key must not be ignored here: `{ dryrun: true }` read as no dry run purges for real,
 * and `{ id: [...] }` read as no filter selects every letter.
 */
function rejectUnknownKeys(value: object, known: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `${what} has no ${unknown.map((key) => `"${key}"`).join(', ')}; it takes ${known.join(', ')}`,
    );
  }
}
