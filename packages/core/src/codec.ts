// The body codec: JSON by default, raw bytes passed through, read back by content type.
import { InvalidArgumentError } from './errors.js';

/** Content type of a body core encoded as JSON (anything but bytes). */
export const JSON_CONTENT_TYPE = 'application/json';
/** Content type of a body sent as raw bytes (`Uint8Array` or `Buffer`). */
export const BYTES_CONTENT_TYPE = 'application/octet-stream';

/** An encoded body and the content type that says how to read it back. */
export interface EncodedBody {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

/**
 * Encodes a body: a `Uint8Array` (or `Buffer`) passes through as raw bytes, anything else becomes
 * JSON. Throws `InvalidArgument` for what JSON can't represent faithfully (`undefined`, functions,
 * symbols, BigInt, cycles), so nothing half-encoded is ever sent.
 */
export function encodeBody(body: unknown): EncodedBody {
  // Copied, so a caller reusing its buffer after send can't change a message already accepted.
  if (body instanceof Uint8Array)
    return { bytes: Uint8Array.prototype.slice.call(body), contentType: BYTES_CONTENT_TYPE };
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new InvalidArgumentError(`body cannot be encoded as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (text === undefined) {
    throw new InvalidArgumentError(
      `body cannot be encoded as JSON: ${typeof body} has no JSON form`,
    );
  }
  return { bytes: Buffer.from(text, 'utf8'), contentType: JSON_CONTENT_TYPE };
}

/**
 * Decodes a received body by its content type. A message a plain client sent without one is read
 * as JSON, the default codec. Throws with the reason when the bytes aren't what the type says.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | undefined): unknown {
  // toString() without arguments is Node's fast path to UTF-8 (no encoding lookup).
  if (contentType === JSON_CONTENT_TYPE) return JSON.parse(toBuffer(bytes).toString());
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (type === BYTES_CONTENT_TYPE) return bytes;
  if (type !== undefined && type !== '' && type !== JSON_CONTENT_TYPE && !type.endsWith('+json')) {
    if (type.startsWith('text/')) return toBuffer(bytes).toString('utf8');
    return bytes;
  }
  return JSON.parse(toBuffer(bytes).toString('utf8'));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
