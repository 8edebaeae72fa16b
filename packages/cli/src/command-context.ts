/** The context of one command run: global options, output, the bus it opens, stdin, and Ctrl-C. */
import { type Bus, connect } from '@omnibus/core';
import { UsageError } from './failure.js';
import { Output, type TextStream } from './output.js';

/** The options every command takes (`--url`, `--prefix`, `--json`). */
export interface GlobalOptions {
  url?: string;
  prefix?: string;
  json?: boolean;
}

/** What a run reads from and writes to: the process's own, or a test's stand-ins. */
export interface CommandIO {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  readonly stdout: TextStream;
  readonly stderr: TextStream;
  readonly environment: NodeJS.ProcessEnv;
}

/** One command run. */
export class CommandContext {
  readonly output: Output;
  readonly options: GlobalOptions;
  readonly io: CommandIO;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM: long commands stop cleanly on it. */
  readonly signal: AbortSignal;
  #bus: Bus | undefined;

  constructor(options: GlobalOptions, io: CommandIO, signal: AbortSignal) {
    this.options = options;
    this.io = io;
    this.signal = signal;
    this.output = new Output({
      json: options.json === true,
      stdout: io.stdout,
      stderr: io.stderr,
      environment: io.environment,
    });
  }

  /** The broker URL (`--url`, else `OMNIBUS_URL`); its credentials are masked in all output from here on. */
  brokerUrl(): string {
    const url = this.options.url ?? this.io.environment.OMNIBUS_URL;
    if (url === undefined || url.trim() === '')
      throw new UsageError(
        'no broker: give --url (e.g. --url redis://localhost:6379) or set OMNIBUS_URL',
      );
    this.#maskCredentials(url);
    return url;
  }

  /**
   * Connects like `connect(url)` does (the adapter package for the URL's scheme is loaded on
   * demand), with `--prefix` when given. Adapters connect lazily: the first I/O is the command's.
   */
  async bus(): Promise<Bus> {
    if (this.#bus !== undefined) return this.#bus;
    const url = this.brokerUrl();
    const prefix = this.options.prefix;
    this.#bus = await connect(url, prefix === undefined ? {} : { prefix });
    return this.#bus;
  }

  /** Closes the bus if one was opened; errors closing it are warnings (the command's outcome stands). */
  async close(): Promise<void> {
    const bus = this.#bus;
    this.#bus = undefined;
    if (bus === undefined) return;
    try {
      await bus.close();
    } catch (error) {
      this.output.warn(`closing the connection failed: ${(error as Error).message}`);
    }
  }

  /** Whether a person can answer a prompt: stdin and stderr (where prompts are drawn) are terminals. */
  canPrompt(): boolean {
    return this.io.stdin.isTTY === true && this.io.stderr.isTTY === true;
  }

  /** All of stdin as text (for `--id -`). */
  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.io.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }

  #maskCredentials(text: string): void {
    // The URL may be malformed (then connect() says so, redacted); mask what can be found anyway.
    const userInfo = /^[A-Za-z][A-Za-z0-9+.-]*:\/*([^@]*)@/.exec(text.trim())?.[1];
    if (userInfo !== undefined && userInfo !== '') {
      const colon = userInfo.indexOf(':');
      this.#addPassword(colon < 0 ? userInfo : userInfo.slice(colon + 1));
    }
    // A query parameter may be a URL with credentials of its own (sqs://…?endpoint=http://u:p@h),
    // percent-encoded or not: its password is masked in every spelling.
    let parameters: URLSearchParams;
    try {
      parameters = new URL(text.trim()).searchParams;
    } catch {
      return;
    }
    for (const value of parameters.values()) {
      try {
        const nested = new URL(value);
        if (nested.password !== '') this.#addPassword(nested.password);
        else if (nested.username !== '') this.#addPassword(nested.username);
      } catch {
        // Not a URL: an ordinary parameter.
      }
    }
  }

  #addPassword(password: string): void {
    const decoded = safeDecode(password);
    for (const secret of [password, decoded, encodeURIComponent(decoded)])
      this.output.addSecret(secret);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
