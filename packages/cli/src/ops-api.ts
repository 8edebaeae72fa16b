/** The ops API of core the CLI stands on (dead-letter selection, topology delete), until core exports it. */
import type { Bus, DeadLetter, DeadLetters, OmnibusError } from '@omnibus/core';

export interface DeadLetterFilter {
  ids?: readonly string[];
  reason?: string | RegExp;
  failedBefore?: Date;
  failedAfter?: Date;
  where?: (letter: DeadLetter<unknown>) => boolean;
  limit?: number;
}
export type DeadLetterOutcome =
  | 'redriven'
  | 'purged'
  | 'would-redrive'
  | 'would-purge'
  | 'refused'
  | 'failed';
export interface DeadLetterResult {
  id: string;
  outcome: DeadLetterOutcome;
  reason: string;
  attempts: number;
  redrives: number;
  deadLetteredAt: Date;
  orderingKey: string | undefined;
  detail?: string;
  error?: OmnibusError;
}
export interface DeadLetterReport {
  results: DeadLetterResult[];
  scanned: number;
  matched: number;
  redriven: number;
  purged: number;
  refused: number;
  failed: number;
  dryRun: boolean;
}
export interface DeadLetterActionOptions {
  dryRun?: boolean;
  ratePerSecond?: number;
  onResult?: (result: DeadLetterResult) => void;
  signal?: AbortSignal;
}
export interface RedriveOptions extends DeadLetterActionOptions {
  maxRedrives?: number;
}
export type OpsDeadLetter<T = unknown> = DeadLetter<T> & { readonly redrives: number };
export interface DeadLetterSelection<T = unknown> {
  list(): Promise<OpsDeadLetter<T>[]>;
  redrive(options?: RedriveOptions): Promise<DeadLetterReport>;
  purge(options?: DeadLetterActionOptions): Promise<DeadLetterReport>;
}
export interface OpsDeadLetters<T = unknown> extends DeadLetters<T> {
  select(filter?: DeadLetterFilter): DeadLetterSelection<T>;
}
export interface OpsBus extends Bus {
  deleteSubscription(topic: string, subscription: string): Promise<boolean>;
  deleteTopic(topic: string): Promise<boolean>;
}

/** The bus with the ops API's methods. */
export function opsBus(bus: Bus): OpsBus {
  return bus as OpsBus;
}

/** A DLQ with the ops API's selection. */
export function opsDeadLetters(bus: Bus, topic: string, subscription: string): OpsDeadLetters {
  return bus.deadLetters(topic, subscription) as OpsDeadLetters;
}
