/** The `operationTimeoutMs` URL parameter: the one bound on how long any call against a broker may take. */
import { ConfigError } from './errors.js';

/** What `operationTimeoutMs` is when neither the URL nor the options set it. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 15_000;

// Below 100 ms a healthy broker across a network would time out; above an hour a hang is a hang.
const MIN_MS = 100;
const MAX_MS = 3_600_000;
const WHOLE_NUMBER = /^[0-9]+$/;

/**
 * Reads `?operationTimeoutMs=` from an adapter URL: a whole number of milliseconds from 100 to
 * 3 600 000, else a `ConfigError` naming the parameter and the range; the default when absent.
 * Adapters call it in `fromUrl`.
 */
export function readOperationTimeout(url: URL): number {
  const text = url.searchParams.get('operationTimeoutMs');
  if (text === null) return DEFAULT_OPERATION_TIMEOUT_MS;
  const value = WHOLE_NUMBER.test(text) ? Number(text) : Number.NaN;
  if (!(value >= MIN_MS && value <= MAX_MS)) {
    throw new ConfigError(
      `operationTimeoutMs must be a whole number of milliseconds from ${MIN_MS} to ${MAX_MS}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return value;
}
