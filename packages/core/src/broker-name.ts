// The one mapping from Omnibus names to broker-wide names: readable where they fit, hashed where they don't.
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** Hex digits of the hash a shortened name ends with (48 bits). */
const HASH_LENGTH = 12;
/** Shortest `maxLength` that leaves a readable head of at least 4 characters before the hash. */
const MIN_LENGTH = HASH_LENGTH + 5;
const HASH_SEGMENT = /^[0-9a-f]{12}$/;

/**
 * Derives a broker-wide name (an SQS queue, a Pub/Sub subscription, a RabbitMQ queue, a Redis key)
 * from the parts it stands for, such as `[topic, subscription, 'dlq']` with the prefix applied.
 * Every adapter derives its global names through it, with its broker's
 * {@link Capabilities.maxNameLength}.
 *
 * - **Readable where it fits:** the parts joined by `separator` when that is at most `maxLength`
 *   long and no part contains the separator (so the join can be split back into its parts).
 * - **Hashed where it doesn't:** otherwise a readable head of the join, then `separator`, then 12
 *   hex digits of a SHA-256 of the parts, `maxLength` characters at most. The same happens when the
 *   join's last segment itself looks like such a hash, so a readable name never equals a hashed one.
 * - **Deterministic and collision-free:** the same parts always give the same name, on every
 *   process and version; different parts give different names (readable ones exactly, hashed ones
 *   unless 48 bits of SHA-256 collide).
 *
 * Lengths are counted in UTF-16 code units; Omnibus names and prefixes are ASCII, so for them that
 * is also bytes. `maxLength` must leave room for the hash (at least 17); `separator` is one
 * character, not a lower-case hex digit (a longer one could be read two ways). Choose a separator the broker allows in names (`.` for RabbitMQ and Pub/Sub, `-` or `_`
 * for SQS, where a name containing it is then shortened with a hash).
 */
export function brokerName(parts: readonly string[], maxLength: number, separator = '.'): string {
  if (!Array.isArray(parts) || parts.length === 0 || parts.some((part) => typeof part !== 'string'))
    throw new InvalidArgumentError('brokerName(parts) needs a non-empty array of strings');
  if (!Number.isInteger(maxLength) || maxLength < MIN_LENGTH)
    throw new InvalidArgumentError(
      `brokerName maxLength must be a whole number ≥ ${MIN_LENGTH} (room for a readable head and the hash), got ${String(maxLength)}`,
    );
  if (typeof separator !== 'string' || separator.length !== 1 || /[0-9a-f]/.test(separator))
    throw new InvalidArgumentError(
      `brokerName separator must be one character that is not a lower-case hex digit, got ${JSON.stringify(separator)}`,
    );
  const joined = parts.join(separator);
  const last = parts[parts.length - 1]!;
  if (
    joined.length <= maxLength &&
    !parts.some((part) => part.includes(separator)) &&
    !HASH_SEGMENT.test(last)
  ) {
    return joined;
  }
  // JSON keeps the parts apart, whatever they contain, so different parts hash differently.
  const hash = createHash('sha256')
    .update(JSON.stringify(parts))
    .digest('hex')
    .slice(0, HASH_LENGTH);
  let head = joined.slice(0, maxLength - separator.length - HASH_LENGTH);
  // Never end the head on half a surrogate pair, nor on separators that would read as a double one.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  while (head.endsWith(separator)) head = head.slice(0, -separator.length);
  return `${head}${separator}${hash}`;
}
