import { InvalidArgumentError, MessageTooLargeError } from './errors.js';

/**
 * The portable rule set: one set of limits, checked before any I/O on every adapter, and tight
 * enough for the strictest broker, so that what passes on `memory://` passes on SQS and Pub/Sub.
 *
 * Where each limit comes from:
 * - Names: Pub/Sub needs ≥ 3 characters starting with a letter and forbids a `goog` prefix; SQS
 *   allows only letters, digits, `-` and `_`. The caps (prefix 32, names 64) do **not** make
 *   prefix + topic + subscription and the suffixes adapters derive (DLQ, delay queues) fit SQS's
 *   80-character queue names (32 + 64 + 64 is already 160): where a broker's names are global and
 *   short, adapters derive them with `brokerName()`, readable where they fit and shortened with a
 *   hash where they don't (`capabilities.maxNameLength`).
 * - Attributes: SQS carries at most 10 message attributes; adapters reserve two for Omnibus
 *   metadata and trace context, which leaves 8. SQS rejects empty values and names with `..`,
 *   Pub/Sub caps values at 1,024 bytes, and the prefixes below belong to the brokers or to us.
 * - Ordering keys and ids: SQS `MessageGroupId` / `MessageDeduplicationId` allow 128 printable
 *   ASCII characters.
 * - Size: SQS's 256 KiB counts body plus attribute names and values, so we count the same.
 * - Leases and delays (the intersection over memory, Redis, RabbitMQ, SQS and Pub/Sub): Pub/Sub's
 *   ack deadline is 10–600 s and `modifyAckDeadline` takes at most 600 s, which bounds the lease,
 *   lease extensions and nack delays (SQS would allow 12 h); SQS `DelaySeconds` stops at 900 s,
 *   which bounds a send's `delayMs`; SQS `maxReceiveCount` stops at 1,000, which bounds
 *   `maxAttempts`; RabbitMQ's prefetch and every client's buffers bound `concurrency` at 1,000.
 */
export const PORTABLE_RULES = {
  /** Shortest topic or subscription name, in characters (Pub/Sub). */
  nameMinLength: 3,
  /** Longest topic or subscription name, in characters. */
  nameMaxLength: 64,
  /** Longest connection `prefix`, in characters. */
  prefixMaxLength: 32,
  /** Most user attributes on one message (SQS's 10, less the 2 adapters reserve). */
  maxAttributes: 8,
  /** Longest attribute name, in characters. */
  attributeNameMaxLength: 128,
  /** Longest attribute value, in UTF-8 bytes (Pub/Sub). */
  attributeValueMaxBytes: 1024,
  /** Longest ordering key, in printable ASCII characters (SQS `MessageGroupId`). */
  orderingKeyMaxLength: 128,
  /** Longest message id, in printable ASCII characters (SQS `MessageDeduplicationId`). */
  idMaxLength: 128,
  /** Largest message: body plus attribute names and values, in bytes (SQS 256 KiB). */
  maxMessageBytes: 256 * 1024,
  /** Shortest lease (`ackDeadlineMs`), in ms (Pub/Sub). */
  ackDeadlineMinMs: 10_000,
  /** Longest lease (`ackDeadlineMs`), in ms (Pub/Sub). */
  ackDeadlineMaxMs: 600_000,
  /** Longest nack delay, in ms (Pub/Sub `modifyAckDeadline`). */
  maxNackDelayMs: 600_000,
  /** Longest send delay (`delayMs`), in ms (SQS `DelaySeconds` 900). */
  maxSendDelayMs: 900_000,
  /** Most attempts before dead-lettering (SQS `maxReceiveCount`). */
  maxAttempts: 1_000,
  /** Most handlers running at once per consumer. */
  maxConcurrency: 1_000,
} as const;

/** Attribute name prefixes that belong to a broker or to Omnibus (compared case-insensitively). */
export const RESERVED_ATTRIBUTE_PREFIXES = [
  'omnibus',
  'x-',
  'goog',
  'aws.',
  'amazon.',
  'cloudpubsub',
  // W3C trace context: Omnibus carries `traceparent` itself (RabbitMQ and SQS in a header or
  // attribute of that name), so a user attribute of the same name would collide with it.
  'traceparent',
  'tracestate',
] as const;

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const PREFIX = /^[A-Za-z][A-Za-z0-9_-]*$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
// Characters SQS accepts in string attribute values (XML 1.0 characters).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the XML 1.0 ranges are the rule.
const XML_CHARACTERS = /^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** Checks a topic or subscription name; `kind` names it in the error. */
export function checkName(name: unknown, kind: 'topic' | 'subscription'): asserts name is string {
  if (typeof name !== 'string') {
    throw new InvalidArgumentError(`${kind} name must be a string, got ${typeof name}`);
  }
  const { nameMinLength: min, nameMaxLength: max } = PORTABLE_RULES;
  if (name.length < min || name.length > max || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `${kind} name ${JSON.stringify(truncate(name))} ${identifierFault(name, min, max)}; the portable rule: ` +
        `${min}–${max} characters, a letter first, then letters, digits, "-" or "_"`,
    );
  }
  if (name.toLowerCase().startsWith('goog')) {
    throw new InvalidArgumentError(
      `${kind} name ${JSON.stringify(name)} must not start with "goog" (reserved by Google Pub/Sub)`,
    );
  }
}

/** Checks a namespace prefix (`connect(url, { prefix })`, `?prefix=`). Empty means none. */
export function checkPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError(`prefix must be a string, got ${typeof prefix}`);
  }
  if (prefix === '') return;
  const max = PORTABLE_RULES.prefixMaxLength;
  if (prefix.length > max || !PREFIX.test(prefix)) {
    throw new InvalidArgumentError(
      `prefix ${JSON.stringify(truncate(prefix))} ${identifierFault(prefix, 1, max)}; the portable rule: ` +
        `at most ${max} characters, a letter first, then letters, digits, "-" or "_"`,
    );
  }
  if (prefix.toLowerCase().startsWith('goog')) {
    throw new InvalidArgumentError(
      'prefix must not start with "goog" (reserved by Google Pub/Sub)',
    );
  }
}

/** Checks user attributes; returns their size in bytes (names plus values) for the size rule. */
export function checkAttributes(attributes: unknown): number {
  if (attributes === undefined) return 0;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new InvalidArgumentError('attributes must be a plain object of string values');
  }
  const entries = Object.entries(attributes);
  if (entries.length > PORTABLE_RULES.maxAttributes) {
    throw new InvalidArgumentError(
      `a message carries at most ${PORTABLE_RULES.maxAttributes} attributes (SQS allows 10 and Omnibus reserves 2), got ${entries.length}`,
    );
  }
  let bytes = 0;
  for (const [name, value] of entries) {
    checkAttributeName(name);
    const quoted = JSON.stringify(name);
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(
        `attribute ${quoted} must be a string, got ${value === null ? 'null' : typeof value}`,
      );
    }
    if (value.length === 0) {
      throw new InvalidArgumentError(`attribute ${quoted} value is empty, which SQS rejects`);
    }
    // The regex is the fast path; only a value that fails it is walked to say what is wrong.
    if (!XML_CHARACTERS.test(value)) {
      throw new InvalidArgumentError(`attribute ${quoted} value ${characterFault(value)}`);
    }
    const valueBytes = Buffer.byteLength(value, 'utf8');
    if (valueBytes > PORTABLE_RULES.attributeValueMaxBytes) {
      throw new InvalidArgumentError(
        `attribute ${quoted} value is ${valueBytes} bytes of UTF-8; the limit is ${PORTABLE_RULES.attributeValueMaxBytes} (Pub/Sub)`,
      );
    }
    bytes += Buffer.byteLength(name, 'utf8') + valueBytes;
  }
  return bytes;
}

function checkAttributeName(name: string): void {
  const max = PORTABLE_RULES.attributeNameMaxLength;
  if (
    name.length === 0 ||
    name.length > max ||
    !ATTRIBUTE_NAME.test(name) ||
    name.includes('..') ||
    name.endsWith('.')
  ) {
    const rule =
      `1–${max} characters of letters, digits, "_", "-" and ".", ` +
      'not starting or ending with "." and without ".." (SQS)';
    const fault =
      name.length === 0
        ? 'is empty'
        : name.length > max
          ? `is ${name.length} characters long`
          : name.startsWith('.')
            ? 'starts with "."'
            : name.endsWith('.')
              ? 'ends with "."'
              : name.includes('..')
                ? 'contains ".."'
                : nameCharacterFault(name);
    throw new InvalidArgumentError(
      `attribute name ${JSON.stringify(truncate(name))} ${fault}; the portable rule: ${rule}`,
    );
  }
  const lower = name.toLowerCase();
  const reserved = RESERVED_ATTRIBUTE_PREFIXES.find((prefix) => lower.startsWith(prefix));
  if (reserved !== undefined) {
    throw new InvalidArgumentError(
      `attribute name "${name}" uses the reserved prefix "${reserved}"`,
    );
  }
}

/** Says which character of a value SQS would refuse (XML 1.0 characters only), and why. */
function characterFault(value: string): string {
  for (let index = 0; index < value.length; index++) {
    const surrogate = surrogateAt(value, index);
    if (surrogate === 'pair') {
      index++;
      continue;
    }
    if (surrogate === 'lone') return loneSurrogate(value, index);
    const code = value.charCodeAt(index);
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) {
      return `contains the control character ${codePoint(code)} at index ${index}, which SQS rejects (of the controls only tab, line feed and carriage return are allowed)`;
    }
    if (code === 0xfffe || code === 0xffff) {
      return `contains the noncharacter ${codePoint(code)} at index ${index}, which SQS rejects`;
    }
  }
  return 'contains a character SQS rejects';
}

/** Says how a topic, subscription or prefix name breaks the rule: its length, its first character, or which character. */
function identifierFault(name: string, min: number, max: number): string {
  if (name.length < min || name.length > max) return `is ${name.length} characters long`;
  const first = name.codePointAt(0) ?? 0;
  if (!/[A-Za-z]/.test(name.charAt(0)) && surrogateAt(name, 0) !== 'lone') {
    return `starts with ${describeCharacter(first)}, not a letter`;
  }
  return disallowedCharacter(name, /[A-Za-z0-9_-]/);
}

/** Says which character of an attribute name breaks the rule. */
function nameCharacterFault(name: string): string {
  return disallowedCharacter(name, /[A-Za-z0-9_.-]/);
}

/** Names the first character of `text` that `allowed` does not match, and where it is. */
function disallowedCharacter(text: string, allowed: RegExp): string {
  for (let index = 0; index < text.length; index++) {
    const surrogate = surrogateAt(text, index);
    if (surrogate === 'lone') return loneSurrogate(text, index);
    if (surrogate === 'pair' || !allowed.test(text.charAt(index))) {
      return `contains ${describeCharacter(text.codePointAt(index) ?? 0)} at index ${index}, which is not allowed`;
    }
  }
  return 'breaks the rule';
}

function describeCharacter(code: number): string {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f)
    ? `the control character ${codePoint(code)}`
    : `${JSON.stringify(String.fromCodePoint(code))} (${codePoint(code)})`;
}

/** Whether the code unit at `index` is not a surrogate, starts a valid pair, or stands alone. */
function surrogateAt(text: string, index: number): 'none' | 'pair' | 'lone' {
  const code = text.charCodeAt(index);
  if (code < 0xd800 || code > 0xdfff) return 'none';
  const next = text.charCodeAt(index + 1);
  return code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 'pair' : 'lone';
}

// A lone surrogate is not a character: UTF-8 cannot encode it, and brokers replace or refuse it.
function loneSurrogate(text: string, index: number): string {
  return `contains a lone UTF-16 surrogate (${codePoint(text.charCodeAt(index))}) at index ${index}, which is not valid Unicode`;
}

function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Checks an ordering key or message id: 1–128 printable ASCII characters, no spaces. */
export function checkToken(value: unknown, kind: 'orderingKey' | 'id'): asserts value is string {
  const max = kind === 'id' ? PORTABLE_RULES.idMaxLength : PORTABLE_RULES.orderingKeyMaxLength;
  if (typeof value !== 'string' || value.length > max || !PRINTABLE_ASCII.test(value)) {
    throw new InvalidArgumentError(
      `${kind} ${typeof value === 'string' ? JSON.stringify(truncate(value)) : `of type ${typeof value}`} breaks the portable rule: ` +
        `1–${max} printable ASCII characters without spaces`,
    );
  }
}

/** Checks a non-negative whole number of milliseconds (`delayMs`, leases). */
export function checkMilliseconds(
  value: unknown,
  kind: string,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(
      `${kind} must be a whole number of milliseconds from 0 to ${max}, got ${String(value)}`,
    );
  }
}

/** Checks the size of a whole message (body plus attributes) against the limit in force. */
export function checkSize(bodyBytes: number, attributeBytes: number, limit: number): void {
  const total = bodyBytes + attributeBytes;
  if (total > limit) {
    throw new MessageTooLargeError(
      `message is ${total} bytes (body ${bodyBytes} + attributes ${attributeBytes}); the limit is ${limit} bytes`,
    );
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
