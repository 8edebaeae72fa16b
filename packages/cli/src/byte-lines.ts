/** Lines of a byte stream as bytes: split on `\n` alone, so that bytes which are not UTF-8 reach the message untouched. */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Yields each line of `input` without its line ending: `\n`, or `\r\n` (a file saved on Windows:
 * its `\r` is part of the line ending, as in NDJSON mode, not of the line). A last line without a
 * `\n` is a line too; nothing after a final `\n` is not. Chunks are never decoded.
 */
export async function* byteLines(input: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      const line = bytes.subarray(start, end);
      yield withoutCarriageReturn(pending.length === 0 ? line : Buffer.concat([...pending, line]));
      pending = [];
      start = end + 1;
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}
