// Builds a Redis driver from a redis:// or rediss:// URL: what connect(url) calls.
import { ConfigError, checkUrlParameters, readOperationTimeout } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';
import { Cluster, type RedisOptions as IORedisOptions } from 'ioredis';
import { boundedOptions } from './connection.js';
import { type RedisOptions, redis } from './redis-driver.js';

/** The query parameters Omnibus reads from a redis URL (ioredis reads the others). */
const URL_PARAMETERS = [
  'operationTimeoutMs',
  'keyPrefix',
  'pollIntervalMs',
  'trimIntervalMs',
  'maxLength',
  'staleConsumerMs',
  'cluster',
];

/**
 * Builds the driver from a `redis://` or `rediss://` URL (what `connect(url)` calls). Besides what
 * ioredis reads from the URL, it takes `keyPrefix`, `pollIntervalMs`, `trimIntervalMs`, `maxLength`,
 * `staleConsumerMs` and `operationTimeoutMs` query parameters, and `cluster=true` to treat the host as a Redis Cluster
 * seed node. Throws `ConfigError` for a URL without `//` and a host, a path other than a database
 * number, a bad parameter value, or a parameter that differs from one of these only in case.
 */
export function fromUrl(url: URL): DriverV2 {
  // ioredis takes every other query parameter as an option of its own, so only near-misses of
  // Omnibus's own (`operationTimeoutMS`) are refused.
  checkUrlParameters(url, { adapter: 'redis', known: URL_PARAMETERS, passThrough: true });
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(
      `@omnibus/redis serves redis:// and rediss:// URLs, not ${url.protocol}//`,
    );
  }
  // A malformed URL must not quietly become the default Redis: `redis:/:pw@host` parses as a path
  // with no host at all. Messages never quote the URL (it may hold a password).
  if (!url.href.startsWith(`${url.protocol}//`)) {
    throw new ConfigError(
      `a redis URL must start with ${url.protocol}// followed by the host, as in ${url.protocol}//user:password@host:6379/0`,
    );
  }
  if (url.hostname === '') {
    throw new ConfigError(
      `the redis URL has no host: write ${url.protocol}//host:port (127.0.0.1 for this machine)`,
    );
  }
  if (!/^(\/[0-9]*)?$/.test(url.pathname)) {
    throw new ConfigError(
      'the path of a redis URL is the database number (/0 to /15), and nothing else',
    );
  }
  if (url.pathname.length > 1 && Number(url.pathname.slice(1)) > 2_147_483_647) {
    throw new ConfigError(
      "the database number in a redis URL must be from 0 to the server's databases setting less one (0 to 15 by default)",
    );
  }
  const operationTimeoutMs = readOperationTimeout(url);
  const target = new URL(url.href);
  const take = (name: string): string | undefined => {
    const value = target.searchParams.get(name);
    target.searchParams.delete(name);
    return value ?? undefined;
  };
  const number = (name: string): number | undefined => {
    const value = take(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new ConfigError(`redis URL parameter ${name} must be a number, got "${value}"`);
    return parsed;
  };
  take('operationTimeoutMs');
  const keyPrefix = take('keyPrefix');
  const pollIntervalMs = number('pollIntervalMs');
  const trimIntervalMs = number('trimIntervalMs');
  const maxLength = number('maxLength');
  const staleConsumerMs = number('staleConsumerMs');
  const cluster = take('cluster');
  const options: RedisOptions = {
    keyPrefix,
    pollIntervalMs,
    trimIntervalMs,
    maxLength,
    staleConsumerMs,
    operationTimeoutMs,
  };
  if (cluster === 'true' || cluster === '1') {
    const redisOptions: IORedisOptions = {
      ...boundedOptions(operationTimeoutMs),
      username: decodeURIComponent(target.username) || undefined,
      password: decodeURIComponent(target.password) || undefined,
      tls: target.protocol === 'rediss:' ? {} : undefined,
    };
    const client = new Cluster([{ host: target.hostname, port: Number(target.port || 6379) }], {
      redisOptions,
    });
    client.on('error', () => undefined);
    const driver = redis({ ...options, client });
    // The driver does not close a client it was given; this one is ours.
    const close = driver.close.bind(driver);
    return {
      ...driver,
      async close() {
        await close();
        await client.quit().catch(() => client.disconnect());
      },
    };
  }
  return redis({ ...options, url: target.href });
}
