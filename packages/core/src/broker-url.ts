/** Broker URLs: parsed and checked before any adapter sees them, with errors that never show a secret. */
import { ConfigError, OmnibusError } from './errors.js';
import { redactUrl } from './redact.js';
import { checkPrefix } from './rules.js';

/** URL scheme → the adapter package that serves it. */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = {
  'memory:': '@omnibus/memory',
  'redis:': '@omnibus/redis',
  'rediss:': '@omnibus/redis',
  'amqp:': '@omnibus/rabbitmq',
  'amqps:': '@omnibus/rabbitmq',
  'sqs:': '@omnibus/sqs',
  'gcppubsub:': '@omnibus/gcp-pubsub',
};

/** A checked broker URL: the adapter to load, the URL to give it, and the `?prefix=` it carried. */
export interface BrokerUrl {
  readonly url: URL;
  readonly packageName: string;
  readonly prefix: string | undefined;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const SCHEME_WITHOUT_COLON = /^[A-Za-z][A-Za-z0-9+.-]*\/\//;

/**
 * Parses and checks a broker URL. Every scheme needs `scheme://` and a host, except `memory:`
 * (`memory:`, `memory://`, `memory://NAME`). WHATWG URL parsing accepts much that is surely a
 * mistake for a broker (`redis:/:pw@host` parses, with no host, as a path), and an adapter given
 * such a URL would fall back to its default host: so each of those is a `ConfigError` saying what
 * is wrong. `source` names where the URL came from (`OMNIBUS_URL`) in the message.
 */
export function parseBrokerUrl(text: string, source = 'broker URL'): BrokerUrl {
  const trimmed = text.trim();
  const shown = `${source} "${truncate(redactUrl(trimmed))}"`;
  const fail = (problem: string, cause?: unknown): never => {
    throw new ConfigError(`${shown}: ${problem}`, cause === undefined ? undefined : { cause });
  };
  if (trimmed === '') fail('it is empty; use e.g. memory:// or redis://localhost:6379');
  const scheme = SCHEME.exec(trimmed);
  if (scheme === null && !/[:/]/.test(trimmed)) {
    // No scheme and nothing URL-like: quite possibly a secret pasted into the wrong variable.
    throw new ConfigError(
      `${source} is not a URL (it has no scheme://), so its value is not shown; write scheme://host, e.g. redis://localhost:6379`,
    );
  }
  if (scheme === null) {
    fail(
      SCHEME_WITHOUT_COLON.test(trimmed)
        ? 'the ":" after the scheme is missing; write scheme://host, e.g. redis://localhost:6379'
        : 'it does not start with a scheme; write scheme://host, e.g. redis://localhost:6379',
    );
  }
  const protocol = `${(scheme?.[1] ?? '').toLowerCase()}:`;
  const packageName = ADAPTER_PACKAGES[protocol];
  if (packageName === undefined) {
    fail(
      `no Omnibus adapter serves "${protocol}" URLs; known schemes: ${Object.keys(ADAPTER_PACKAGES).join(' ')}`,
    );
  }
  const afterScheme = trimmed.slice(protocol.length);
  const memory = protocol === 'memory:';
  if (!afterScheme.startsWith('//') && !(memory && /^(?:$|\?)/.test(afterScheme))) {
    fail(
      memory
        ? 'write memory:, memory:// or memory://NAME'
        : `"${protocol}" must be followed by "//": ${protocol}//host[:port]`,
    );
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (error) {
    return fail(`it is not a valid URL: ${diagnose(afterScheme)}`, error);
  }
  if (!memory && url.hostname === '') fail(`it has no host: ${protocol}//host[:port]`);
  if (url.pathname.includes('@') || url.hash.includes('@') || hasAtInParameterName(url)) {
    fail(
      'it has an "@" after the host: a user name or password holding "/", "?" or "#" must be ' +
        'percent-encoded (encodeURIComponent)',
    );
  }
  return { url, packageName: packageName ?? '', prefix: readPrefix(url, fail) };
}

function readPrefix(url: URL, fail: (problem: string) => never): string | undefined {
  const values = url.searchParams.getAll('prefix');
  url.searchParams.delete('prefix');
  if (values.length > 1) fail(`it has ${values.length} prefix parameters; give one`);
  const prefix = values[0];
  if (prefix === undefined) return undefined;
  try {
    checkPrefix(prefix);
  } catch (error) {
    if (!OmnibusError.isInstance(error)) throw error;
    fail(`its prefix parameter is not valid: ${error.message}`);
  }
  return prefix;
}

/** Says why WHATWG URL parsing failed, as far as the text shows it. */
function diagnose(afterScheme: string): string {
  if (/\s/.test(afterScheme)) return 'it contains a space; percent-encode it (%20)';
  if (afterScheme.includes('@')) {
    return (
      'a user name or password holding any of @ : / ? # [ ] % must be percent-encoded ' +
      '(encodeURIComponent), and the port must be a number'
    );
  }
  return 'check the host and the port (a number from 0 to 65535)';
}

function hasAtInParameterName(url: URL): boolean {
  for (const name of url.searchParams.keys()) if (name.includes('@')) return true;
  return false;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
