/** Parsers for option values (durations, attributes, times, counts): each throws a UsageError naming the option. */
import { PORTABLE_RULES } from '@omnibus/core';
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

/** Message ids as core takes them: 1–128 printable ASCII characters, no spaces. */
const MESSAGE_ID = new RegExp(`^[\\x21-\\x7e]{1,${PORTABLE_RULES.idMaxLength}}$`);

/** Throws a UsageError unless `id` can be a message id (`where` says where it came from). */
export function checkMessageId(id: string, where: string): void {
  if (!MESSAGE_ID.test(id))
    throw new UsageError(
      `${where} is not a message id: ${JSON.stringify(id.length > 40 ? `${id.slice(0, 39)}…` : id)} ` +
        `(an id is 1–${PORTABLE_RULES.idMaxLength} printable ASCII characters without spaces)`,
    );
}

/**
 * Reads message ids, one a line: a bare id, or an NDJSON record with an `id` (what `--json`
 * output of `dlq list` and `dlq redrive --dry-run` prints, so it can be piped back in). A record
 * with `summary` (the last line of a `--json` report) is skipped; blank lines too. Any other line
 * (a table row, a log line, an id with a space in it) is refused with its number: an operator who
 * piped the wrong thing must learn it before anything is redriven or purged.
 */
export function parseIdLines(text: string): string[] {
  const ids: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `stdin line ${index + 1}`;
    if (line === '') return;
    if (line.startsWith('{')) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw new UsageError(`${where} starts with "{" but is not valid JSON`);
      }
      if (typeof record === 'object' && record !== null && 'summary' in record) return;
      const id = (record as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '')
        throw new UsageError(`${where} is a JSON record without a string "id"`);
      checkMessageId(id, `the "id" of ${where}`);
      ids.push(id);
      return;
    }
    checkMessageId(line, where);
    ids.push(line);
  });
  return ids;
}
