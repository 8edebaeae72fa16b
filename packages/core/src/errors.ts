import type { ErrorClassification, ErrorCode } from './driver.js';

const MARKER = Symbol.for('omnibus.error');

/** Options of an {@link OmnibusError}. */
export interface OmnibusErrorOptions {
  /** Whether the same call may succeed if made again. @default false */
  retryable?: boolean;
  /** Adapter that raised it (`redis`, `memory`, …). */
  driver?: string | undefined;
  /** The broker's own error. */
  cause?: unknown;
}

/**
 * The one error class Omnibus throws. Identify it with {@link OmnibusError.isInstance} (works across
 * duplicated package copies) and branch on {@link OmnibusError.code}, which never changes meaning.
 */
export class OmnibusError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly driver: string | undefined;

  constructor(code: ErrorCode, message: string, options: OmnibusErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmnibusError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.driver = options.driver;
  }

  static isInstance(value: unknown): value is OmnibusError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true
    );
  }
}

/** Thrown when a name, attribute, option or body breaks a rule; `message` states the rule. */
export class InvalidArgumentError extends OmnibusError {
  constructor(message: string, options?: OmnibusErrorOptions) {
    super('InvalidArgument', message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** Thrown when a message exceeds the size limit; `message` states the limit and the size. */
export class MessageTooLargeError extends OmnibusError {
  constructor(message: string, options?: OmnibusErrorOptions) {
    super('MessageTooLarge', message, options);
    this.name = 'MessageTooLargeError';
  }
}

/** Thrown for a bad URL or a missing adapter package. */
export class ConfigError extends OmnibusError {
  constructor(message: string, options?: OmnibusErrorOptions) {
    super('Config', message, options);
    this.name = 'ConfigError';
  }
}

/** Thrown when the adapter lacks a capability the call needs; `message` names the capability. */
export class UnsupportedError extends OmnibusError {
  constructor(message: string, options?: OmnibusErrorOptions) {
    super('Unsupported', message, options);
    this.name = 'UnsupportedError';
  }
}

/** Thrown by any call on a closed bus, producer or consumer. */
export class ClosedError extends OmnibusError {
  constructor(message: string, options?: OmnibusErrorOptions) {
    super('Closed', message, options);
    this.name = 'ClosedError';
  }
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*)(:[^/\s@]*)?@/gi;
const SECRET_PAIRS =
  /\b(password|passwd|pwd|secret|token|access[_-]?key|secret[_-]?access[_-]?key|api[_-]?key|authorization)(["']?\s*[:=]\s*["']?)([^\s"'&,;]+)/gi;

/** Removes credentials from text: user info in URLs and `password=…`-style pairs. */
export function redact(text: string): string {
  return text
    .replace(
      URL_CREDENTIALS,
      (_match, scheme: string, user: string, password: string | undefined) =>
        password === undefined ? `${scheme}${user ? '***' : ''}@` : `${scheme}${user}:***@`,
    )
    .replace(SECRET_PAIRS, (_match, key: string, separator: string) => `${key}${separator}***`);
}

/**
 * Wraps anything a driver threw into an `OmnibusError`: kept as is when it already is one,
 * otherwise classified by the driver's lookup table, else `Internal` and not retryable.
 */
export function toOmnibusError(
  error: unknown,
  driver: {
    readonly name: string;
    classifyError?(error: unknown): ErrorClassification | undefined;
  },
  context: string,
): OmnibusError {
  if (OmnibusError.isInstance(error)) return error;
  let classification: ErrorClassification | undefined;
  try {
    classification = driver.classifyError?.(error);
  } catch {
    classification = undefined;
  }
  const nativeMessage = error instanceof Error ? error.message : String(error);
  const code = classification?.code ?? 'Internal';
  return new OmnibusError(code, `${context}: ${classification?.message ?? nativeMessage}`, {
    retryable: classification?.retryable ?? false,
    driver: driver.name,
    cause: error,
  });
}

/** Builds a `NotFound` error. */
export function notFound(what: string, driver?: string): OmnibusError {
  return new OmnibusError('NotFound', `${what} does not exist`, { driver });
}
