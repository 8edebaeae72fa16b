/** Parsers for option values (durations, attributes, times, counts): each throws a UsageError naming the option. */
import ms from 'ms';
import { UsageError } from './failure.js';

/** `--delay 5000`, `--delay 5s`, `--delay 1m`: milliseconds, a whole number ≥ 0. */
export function parseDuration(option: string, text: string): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value))
    throw new UsageError(
      `${option} ${JSON.stringify(text)} is not a duration: give milliseconds or a number with a unit (500ms, 5s, 2m, 1h)`,
    );
  return value;
}

/** `--attr k=v`, repeatable: collects into an object; the value may contain `=`. */
export function collectAttribute(
  text: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const equals = text.indexOf('=');
  if (equals <= 0)
    throw new UsageError(
      `--attr ${JSON.stringify(text)} is not NAME=VALUE (e.g. --attr source=web)`,
    );
  const name = text.slice(0, equals);
  if (Object.hasOwn(previous, name)) throw new UsageError(`--attr ${name} is given twice`);
  return { ...previous, [name]: text.slice(equals + 1) };
}

/** A repeatable string option: collects into an array. */
export function collect(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

/** A whole number ≥ `min` (`--limit`, `--count`, `--max-redrives`). */
export function parseWholeNumber(option: string, text: string, min = 1): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min)
    throw new UsageError(`${option} ${JSON.stringify(text)} must be a whole number ≥ ${min}`);
  return value;
}

/** A positive rate (`--rate 50` = at most 50 per second; fractions allowed: 0.5 is one every 2 s). */
export function parseRate(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`${option} ${JSON.stringify(text)} must be a number > 0 (per second)`);
  return value;
}

/**
 * A point in time for `--failed-before` / `--failed-after`: an ISO 8601 date or time
 * (`2026-11-30T09:00Z`, `2026-11-30`), or a duration meaning that long ago (`30m`, `2h`, `7d`).
 */
export function parseTime(option: string, text: string, now: number = Date.now()): Date {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?\s*[a-z]+$/i.test(trimmed)) {
    const ago = ms(trimmed as ms.StringValue);
    if (typeof ago === 'number' && Number.isFinite(ago)) return new Date(now - ago);
  }
  // Date.parse takes much that is not a date ("1"): ask for something that starts like one.
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(parsed))
    throw new UsageError(
      `${option} ${JSON.stringify(text)} is not a time: give an ISO date or time (2026-11-30, 2026-11-30T09:00:00Z) or how long ago (30m, 2h, 7d)`,
    );
  return new Date(parsed);
}

/**
 * `--reason TEXT` is a case-insensitive substring of the dead-letter reason; `--reason /RE/flags`
 * a regular expression.
 */
export function parseReason(text: string): string | RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (regex === null) {
    if (text === '') throw new UsageError('--reason must not be empty');
    return text;
  }
  try {
    return new RegExp(regex[1] ?? '', regex[2]);
  } catch (error) {
    throw new UsageError(
      `--reason ${text} is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}

/**
 * Reads message ids, one a line: a bare id, or an NDJSON record with an `id` (what `--json`
 * output of `dlq list` and `dlq redrive --dry-run` prints, so it can be piped back in). A record
 * with `summary` (the last line of a `--json` report) is skipped; blank lines too.
 */
export function parseIdLines(text: string): string[] {
  const ids: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('{')) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw new UsageError(`stdin line ${index + 1} starts with "{" but is not valid JSON`);
      }
      if (typeof record === 'object' && record !== null && 'summary' in record) return;
      const id = (record as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '')
        throw new UsageError(`stdin line ${index + 1} is a JSON record without a string "id"`);
      ids.push(id);
      return;
    }
    ids.push(line);
  });
  return ids;
}
