// Query parameters of an adapter URL: a misspelt one is an error, never silently ignored.
import { ConfigError } from './errors.js';

/** How an adapter's `fromUrl` describes the query parameters it reads. */
export interface UrlParameterRules {
  /** Adapter name, for the message (`redis`, `rabbitmq`, …). */
  readonly adapter: string;
  /** Parameters the adapter (or its client library) reads, spelt exactly. */
  readonly known: readonly string[];
  /**
   * The client library takes every other parameter as an option of its own (ioredis does), so
   * only near-misses of `known` are refused. @default false: any other parameter is refused
   */
  readonly passThrough?: boolean;
}

/**
 * Refuses, with a `ConfigError`, a parameter that differs from a known one only in case (the
 * classic `operationTimeoutMS`), and — unless `passThrough` — any parameter the adapter doesn't
 * know. Values are never quoted: a query string may carry a password.
 * @throws `Config` naming the parameter and the known ones
 */
export function checkUrlParameters(url: URL, rules: UrlParameterRules): void {
  for (const name of new Set(url.searchParams.keys())) {
    if (rules.known.includes(name)) continue;
    const lower = name.toLowerCase();
    const near = rules.known.find((known) => known.toLowerCase() === lower);
    if (near !== undefined) {
      throw new ConfigError(
        `${rules.adapter} URL parameter "${name}" is not known: did you mean "${near}"? (names are case-sensitive)`,
      );
    }
    if (rules.passThrough === true) continue;
    throw new ConfigError(
      `${rules.adapter} URL parameter "${name}" is not known; known: ${rules.known.join(', ')}`,
    );
  }
}
