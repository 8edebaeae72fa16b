/** Output: what a command prints, as human text or NDJSON on stdout, and notes, warnings and errors on stderr. */

import { redact } from '@omnibus/core';
import Table from 'cli-table3';
import picocolors from 'picocolors';

/** The picocolors functions: all identity when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** A writable end of the terminal (process.stdout / process.stderr, or a test's stand-in). */
export interface TextStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/**
 * Whether to colour text written to `stream`: only on a terminal, never with `NO_COLOR` set to
 * anything non-empty (no-color.org) or `TERM=dumb`; `FORCE_COLOR` (non-empty, not `0`) forces it.
 */
export function wantsColor(stream: TextStream, environment: NodeJS.ProcessEnv): boolean {
  const force = environment.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  if (environment.NO_COLOR !== undefined && environment.NO_COLOR !== '') return false;
  if (environment.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Prints for one command run. Everything it writes goes through {@link Output.mask}. */
export class Output {
  /** `--json`: records as NDJSON on stdout, nothing decorative. */
  readonly json: boolean;
  /** Colours for stdout text. */
  readonly color: Colors;
  /** Colours for stderr text (stderr may be a terminal while stdout is a pipe). */
  readonly errorColor: Colors;
  readonly stdout: TextStream;
  readonly stderr: TextStream;
  // Literal secrets (the URL's password and user info) masked in everything written, whatever
  // printed them: redact() finds credentials by shape, this catches one a message quotes bare.
  readonly #secrets = new Set<string>();

  constructor(options: {
    json: boolean;
    stdout: TextStream;
    stderr: TextStream;
    environment: NodeJS.ProcessEnv;
  }) {
    this.json = options.json;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.color = picocolors.createColors(
      !options.json && wantsColor(options.stdout, options.environment),
    );
    this.errorColor = picocolors.createColors(wantsColor(options.stderr, options.environment));
  }

  /** Registers a secret (a URL's password) to mask wherever it would appear. */
  addSecret(secret: string): void {
    // Very short "secrets" would mask ordinary text; a 1–2 character password is masked by shape.
    if (secret.length >= 3) this.#secrets.add(secret);
  }

  /** Masks the registered secrets in `text`. */
  mask(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  /** A line of human output on stdout. */
  line(text = ''): void {
    this.stdout.write(`${this.mask(text)}\n`);
  }

  /** One NDJSON record on stdout. */
  record(value: unknown): void {
    this.stdout.write(`${this.mask(JSON.stringify(value))}\n`);
  }

  /** Information for the human (progress, hints) on stderr; redacted. */
  note(text: string): void {
    this.stderr.write(`${this.mask(redact(text))}\n`);
  }

  /** A warning on stderr; redacted. */
  warn(text: string): void {
    this.stderr.write(`${this.errorColor.yellow('warning:')} ${this.mask(redact(text))}\n`);
  }

  /** An error on stderr; redacted. */
  error(text: string): void {
    this.stderr.write(`${this.errorColor.red('error:')} ${this.mask(redact(text))}\n`);
  }

  /**
   * An aligned table on stdout: a header row, then one row per entry, no borders (like `kubectl
   * get`), so it reads in a terminal and greps in a pipe.
   */
  table(head: readonly string[], rows: readonly (readonly string[])[]): void {
    const table = new Table({
      head: head.map((title) => this.color.bold(title)),
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '  ',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    });
    for (const row of rows) table.push([...row]);
    // cli-table3 pads the last column too: trim so lines end where their text does.
    const text = table
      .toString()
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n');
    this.line(text);
  }

  /** `key  value` lines, keys aligned. */
  fields(entries: readonly (readonly [string, string])[]): void {
    const width = Math.max(0, ...entries.map(([key]) => key.length));
    for (const [key, value] of entries) this.line(`${this.color.dim(key.padEnd(width))}  ${value}`);
  }
}
