// Admission: whether a received delivery may reach a handler, or is turned away and settled how.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Backoff } from '../backoff.js';
import { decodeBody } from '../codec.js';
import { type DeadLetterSettings, expiredBeforeDelivery } from '../dead-letter-policy.js';
import type { ReceivedMessage } from '../driver.js';
import type { SettleRequest } from '../message.js';

/** Settings admission reads. */
export interface AdmissionSettings<T> extends DeadLetterSettings {
  readonly schema: StandardSchemaV1<unknown, T> | undefined;
  readonly retry: Backoff;
  /** Longest delay a nack may ask for: the portable bound, within the driver's. */
  readonly maxNackDelayMs: number;
}

/**
 * A delivery turned away before any handler saw it, and the settle to make instead. A message that
 * can never be handled goes to the DLQ at once, without using up attempts; without a DLQ it is
 * nacked with the longest retry delay (and `reason` reported), so a fixed consumer may read it later.
 */
export class Refusal implements SettleRequest {
  readonly outcome: 'dead-lettered' | 'nacked';
  readonly reason: string;
  readonly attempts: number | undefined;
  readonly delayMs: number | undefined;

  constructor(
    outcome: 'dead-lettered' | 'nacked',
    reason: string,
    attempts: number | undefined,
    delayMs: number | undefined,
  ) {
    this.outcome = outcome;
    this.reason = reason;
    this.attempts = attempts;
    this.delayMs = delayMs;
  }
}

/** An admission waiting for an asynchronous schema. */
export class PendingAdmission<T> {
  readonly settled: Promise<T | Refusal>;

  constructor(settled: Promise<T | Refusal>) {
    this.settled = settled;
  }
}

/**
 * What admission decided: the decoded (and validated) body, a refusal, or a decision still waiting
 * for an asynchronous schema. The body is returned bare so that admitting allocates nothing; it can
 * never be mistaken for the other two, whose classes are core's own.
 */
export type Admission<T> = T | Refusal | PendingAdmission<T>;

/**
 * Admits one delivery: refuses it when it arrives past its last attempt (dead-letter policy), when
 * its body can't be decoded, or when the schema rejects or throws; otherwise returns the body.
 */
export function admit<T>(received: ReceivedMessage, settings: AdmissionSettings<T>): Admission<T> {
  const expired = expiredBeforeDelivery(received.attempt, settings);
  if (expired !== undefined)
    return new Refusal('dead-lettered', expired.reason, expired.attempts, undefined);
  let body: unknown;
  try {
    body = decodeBody(received.body, received.contentType);
  } catch (error) {
    return refuse(
      `body could not be decoded (${received.contentType ?? 'no content type'}): ${(error as Error).message}`,
      settings,
    );
  }
  const schema = settings.schema;
  if (schema === undefined) return body as T;
  let result: StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>;
  try {
    result = schema['~standard'].validate(body);
  } catch (error) {
    return refuse(`schema validation threw: ${(error as Error).message}`, settings);
  }
  if (result instanceof Promise) {
    return new PendingAdmission(
      result.then(
        (settled) => judge(settled, settings),
        (error: unknown) =>
          refuse(`schema validation threw: ${(error as Error).message}`, settings),
      ),
    );
  }
  return judge(result, settings);
}

function judge<T>(result: StandardSchemaV1.Result<T>, settings: AdmissionSettings<T>): T | Refusal {
  if (result.issues === undefined) return result.value;
  const issues = result.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path
        ?.map((segment) => (typeof segment === 'object' ? segment.key : segment))
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
  return refuse(`schema validation failed: ${issues}`, settings);
}

function refuse<T>(reason: string, settings: AdmissionSettings<T>): Refusal {
  return settings.deadLetter
    ? new Refusal('dead-lettered', reason, undefined, undefined)
    : new Refusal(
        'nacked',
        reason,
        undefined,
        Math.min(settings.retry.maxDelayMs, settings.maxNackDelayMs),
      );
}
