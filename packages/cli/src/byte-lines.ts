/** Lines of a byte stream as bytes: split on `\n` alone, so that bytes which are not UTF-8 reach the message untouched. */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A line longer than the limit: only its length was kept, never its bytes. */
export interface OversizedLine {
  readonly oversized: true;
  /** The line's length in bytes, without its line ending. */
  readonly bytes: number;
}

/**
 * Yields each line of `input` without its line ending: `\n`, or `\r\n` (a file saved on Windows:
 * its `\r` is part of the line ending, as in NDJSON mode, not of the line). A last line without a
 * `\n` is a line too; nothing after a final `\n` is not. Chunks are never decoded.
 *
 * A line longer than `maxLineBytes` is not held: once past the limit its bytes are dropped as they
 * arrive and it is yielded as an {@link OversizedLine}, so a 200 MB line costs no 200 MB of memory.
 */
export async function* byteLines(
  input: AsyncIterable<unknown>,
  maxLineBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<Buffer | OversizedLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Bytes of the current line once it is over the limit (then pending is empty); -1: not over.
  let oversizedBytes = -1;
  const append = (part: Buffer) => {
    if (oversizedBytes >= 0) {
      oversizedBytes += part.length;
      return;
    }
    // Counted with a possible `\r` of a CRLF ending: a line at the limit plus `\r` is held (one
    // byte more), never one past it.
    if (pendingBytes + part.length > maxLineBytes + 1) {
      oversizedBytes = pendingBytes + part.length;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(part);
    pendingBytes += part.length;
  };
  const finish = (ended: boolean): Buffer | OversizedLine => {
    let line: Buffer | OversizedLine;
    if (oversizedBytes >= 0) line = { oversized: true, bytes: oversizedBytes };
    else {
      const bytes = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
      line = ended ? withoutCarriageReturn(bytes) : bytes;
      if (line.length > maxLineBytes) line = { oversized: true, bytes: line.length };
    }
    pending = [];
    pendingBytes = 0;
    oversizedBytes = -1;
    return line;
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      append(bytes.subarray(start, end));
      yield finish(true);
      start = end + 1;
    }
    if (start < bytes.length) append(bytes.subarray(start));
  }
  if (pendingBytes > 0 || oversizedBytes >= 0) yield finish(false);
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}
