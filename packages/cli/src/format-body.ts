/** Message bodies for printing: compact JSON for humans, and a JSON-safe form (raw bytes as text or base64) for NDJSON. */

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A body as NDJSON carries it: `body`, plus `bodyEncoding` when the body was raw bytes. */
export interface BodyRecord {
  readonly body: unknown;
  /** `utf8` or `base64` when the body was raw bytes (`--raw` publishes, undecodable dead letters). */
  readonly bodyEncoding?: 'utf8' | 'base64';
}

/** The body as a JSON-safe value: decoded JSON as is, raw bytes as UTF-8 text or else base64. */
export function bodyRecord(body: unknown): BodyRecord {
  if (!(body instanceof Uint8Array)) return { body };
  try {
    return { body: UTF8.decode(body), bodyEncoding: 'utf8' };
  } catch {
    return { body: Buffer.from(body).toString('base64'), bodyEncoding: 'base64' };
  }
}

/** The body on one line for humans: JSON compact, raw UTF-8 as is, other bytes as `base64:…`. */
export function bodyText(body: unknown, maxLength = Number.POSITIVE_INFINITY): string {
  const record = bodyRecord(body);
  const text =
    record.bodyEncoding === 'base64'
      ? `base64:${String(record.body)}`
      : record.bodyEncoding === 'utf8'
        ? String(record.body)
        : (JSON.stringify(record.body) ?? 'undefined');
  const oneLine = text.replace(/\r?\n/g, '\\n');
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength - 1)}…` : oneLine;
}

/** Attributes as `k=v k=v` for humans. */
export function attributesText(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
