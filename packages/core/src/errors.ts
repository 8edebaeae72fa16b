/** OmnibusError and its subclasses, and how a foreign error becomes one without its secrets. */
import type { ErrorClassification, ErrorCode, SubscriptionRef } from './driver.js';
import { isSecretKey, redact } from './redact.js';

export { redact } from './redact.js';

const MARKER = Symbol.for('omnibus.error');

/** Options of an {@link OmnibusError}. */
export interface OmnibusErrorOptions {
  /** Whether the same call may succeed if made again. @default false */
  retryable?: boolean;
  /** Adapter that raised it (`redis`, `memory`, …). */
  driver?: string | undefined;
  /**
   * The broker's own error. What the error keeps is a redacted copy (see `sanitizeCause`):
   * name, code, message, stack and other plain fields, with every credential taken out.
   */
  cause?: unknown;
}

/**
 * The one error class Omnibus throws. Identify it with {@link OmnibusError.isInstance} (works across
 * duplicated package copies) and branch on {@link OmnibusError.code}, which never changes meaning.
 */
export class OmnibusError extends Error {
  /** @internal The cross-copy marker {@link OmnibusError.isInstance} looks for. */
  readonly [MARKER] = true;
  /** What went wrong, portably (`NotFound`, `Unavailable`, …); codes never change meaning. */
  readonly code: ErrorCode;
  /** Whether the same call may succeed if made again (core has already retried within operationTimeoutMs). */
  readonly retryable: boolean;
  /** Adapter that raised it (`redis`, `rabbitmq`, …); undefined for errors of core's own checks. */
  readonly driver: string | undefined;

  constructor(code: ErrorCode, message: string, options: OmnibusErrorOptions = {}) {
    // The stack's first line is built from this message, so redacting it here keeps it out of both.
    super(
      redact(message),
      options.cause === undefined ? undefined : { cause: sanitizeCause(options.cause) },
    );
    this.name = 'OmnibusError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.driver = options.driver;
  }

  /** Whether `value` is an `OmnibusError`, from this copy of the package or any other. */
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
  const nativeMessage = describe(error);
  const code = classification?.code ?? 'Internal';
  return new OmnibusError(code, `${context}: ${classification?.message ?? nativeMessage}`, {
    retryable: classification?.retryable ?? false,
    driver: driver.name,
    cause: error,
  });
}

// What a thrown value says about itself; `String()` throws for a null-prototype object.
function describe(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/**
 * The `NotFound` error a driver throws when a subscription (or its topic) does not exist, from
 * `subscribe`, `stats` and the DLQ admin calls: one wording on every adapter. Not retryable.
 */
export function subscriptionNotFound(ref: SubscriptionRef, driver: string): OmnibusError {
  return new OmnibusError(
    'NotFound',
    `subscription "${ref.subscription}" on topic "${ref.topic}" does not exist`,
    { driver },
  );
}

const NATIVE_ERRORS = [
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
] as const;
// A cause chain longer than this is cut: nothing useful is that deep, and it bounds the work.
const MAX_CAUSE_DEPTH = 16;

/**
 * Returns what an `OmnibusError` keeps as its `cause`: a copy of the native error with every
 * secret taken out, recursively through its own `cause`, AggregateError `errors` and any nested
 * error, with a guard against cycles. An `OmnibusError` made here is already clean and is kept.
 *
 * Why a copy and not redacting the native error in place: the native object is not ours. A driver
 * may still hold it (ioredis rejects every queued command with one error object) and a user's code
 * may have thrown it, so rewriting its fields would change what they see; and in-place redaction can
 * fail silently on frozen objects, read-only or accessor properties, and symbol-keyed fields that
 * `util.inspect` prints. A copy holds exactly what we put in it: the name, the message, the stack,
 * primitive fields such as `code`, `errno` or `input` (strings redacted), nested errors (copied the
 * same way), and nothing else. Structured fields (an ioredis `command` with its `args`, request
 * headers) are dropped, since a bare password in an argument list cannot be recognised by its text.
 * The driver's `classifyError` sees the original before the copy is made, so nothing is lost there.
 */
export function sanitizeCause(cause: unknown): unknown {
  try {
    return sanitize(cause, new WeakMap(), 0);
  } catch {
    return new Error('[the cause could not be copied safely and was left out]');
  }
}

function sanitize(value: unknown, seen: WeakMap<object, unknown>, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'function') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof OmnibusError) return value;
  if (seen.has(value)) return seen.get(value);
  if (depth > MAX_CAUSE_DEPTH) return undefined;
  if (!isErrorLike(value)) return sanitizeRecord(value, seen, depth);
  const source = value as Error & Record<PropertyKey, unknown>;
  const message = redact(String(read(source, 'message') ?? ''));
  const copy = makeError(source, message, seen, depth);
  seen.set(value, copy);
  const name = read(source, 'name');
  if (typeof name === 'string' && name !== copy.name) define(copy, 'name', redact(name), false);
  const stack = read(source, 'stack');
  define(
    copy,
    'stack',
    typeof stack === 'string' ? redact(stack) : `${copy.name}: ${message}`,
    false,
  );
  copyFields(source, copy, seen, depth, ['name', 'message', 'stack', 'errors']);
  return copy;
}

/** A fresh error of the same built-in kind, so `instanceof TypeError` still holds. */
function makeError(
  source: Error,
  message: string,
  seen: WeakMap<object, unknown>,
  depth: number,
): Error {
  if (source instanceof AggregateError) {
    const inner = read(source, 'errors');
    const errors: unknown[] = Array.isArray(inner) ? inner : [];
    const copy = new AggregateError([], message);
    seen.set(source, copy);
    define(
      copy,
      'errors',
      errors.map((error) => sanitize(error, seen, depth + 1)),
      false,
    );
    return copy;
  }
  const Native = NATIVE_ERRORS.find((candidate) => source instanceof candidate) ?? Error;
  return new Native(message);
}

/** Copies own data fields that are safe to show: primitives (redacted) and nested errors. */
function copyFields(
  source: object,
  copy: object,
  seen: WeakMap<object, unknown>,
  depth: number,
  skip: readonly string[],
): void {
  for (const key of Reflect.ownKeys(source)) {
    if (typeof key === 'symbol') {
      // The marker keeps a foreign copy of OmnibusError recognisable; other symbols may hold
      // anything, `util.inspect.custom` included.
      if (key === MARKER) define(copy, key, true, false);
      continue;
    }
    if (skip.includes(key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(source, key);
    if (descriptor === undefined || !('value' in descriptor)) continue;
    const safe =
      key === 'cause'
        ? sanitize(descriptor.value, seen, depth + 1)
        : safeField(key, descriptor.value, seen, depth);
    if (safe !== undefined) define(copy, key, safe, descriptor.enumerable ?? false);
  }
}

function safeField(
  key: string,
  value: unknown,
  seen: WeakMap<object, unknown>,
  depth: number,
): unknown {
  if (typeof value === 'object' && value !== null) {
    if (isErrorLike(value)) return sanitize(value, seen, depth + 1);
    if (Array.isArray(value) && value.length > 0 && value.every(isErrorLike))
      return value.map((inner) => sanitize(inner, seen, depth + 1));
    return undefined;
  }
  if (typeof value === 'string') return isSecretKey(key) ? '***' : redact(value);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/** A cause that is not an error (a rejected plain object): its primitive fields, redacted. */
function sanitizeRecord(value: object, seen: WeakMap<object, unknown>, depth: number): unknown {
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  copyFields(value, copy, seen, depth, []);
  return copy;
}

function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    Object.prototype.toString.call(value) === '[object Error]' ||
    OmnibusError.isInstance(value)
  );
}

/** Reads a property that may be a throwing getter on a foreign object. */
function read(source: object, key: string): unknown {
  try {
    return (source as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function define(target: object, key: PropertyKey, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}
