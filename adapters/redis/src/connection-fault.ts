/** Remembers why a client's connection can never work (wrong protocol, bad credentials), so every call says so. */
import { createConnection } from 'node:net';
import { OmnibusError } from '@omnibus/core';
import type { Cluster, Redis } from 'ioredis';
import { classifyRedisError, scrubCredentials } from './classify-error.js';

/**
 * What a client's connection attempts told us. ioredis reports a handshake failure (the peer is not
 * Redis, the password is wrong) on its `error` event and keeps reconnecting, while the command that
 * was queued fails later with a generic reconnect error (`MaxRetriesPerRequestError`, retryable).
 * So the fatal cause is remembered here and {@link ConnectionFault.explain} turns any failure into
 * it: core then stops retrying at once instead of at `operationTimeoutMs`.
 */
export interface ConnectionFault {
  /** The error to throw instead of `error`: the remembered fatal cause, or `error` itself. */
  explain(error: unknown): Promise<unknown>;
  /**
   * The retryable `Unavailable` naming the connection error (ECONNREFUSED, ENOTFOUND, …) while the
   * client is not connected and its last attempt failed so, to fail a call at once instead of
   * waiting in ioredis's offline queue for the next attempt (core retries it within the bound).
   */
  unreachable(): OmnibusError | undefined;
}

/** Node's codes for a connection attempt that found nobody to talk to. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

function unreachableCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code) ? code : undefined;
}

/** The `Config` error for a rediss:// URL at a port that answers in plain RESP. */
function notTlsError(endpoint: string, cause: unknown): OmnibusError {
  return new OmnibusError(
    'Config',
    `the TLS handshake with Redis at ${endpoint} failed: the server answers without TLS; is rediss:// pointing at a plain redis:// port?`,
    { driver: 'redis', retryable: false, cause },
  );
}

/** Where a client connects, for messages and for the protocol probe. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** TLS endpoints are not probed (the probe speaks plain TCP). */
  readonly tls: boolean;
  /** Probe when a call fails for want of an answer: true for a Cluster, whose slot refresh hides the parser's error. */
  readonly probe: boolean;
}

/**
 * Sends `PING` on a plain socket and reads the first byte of the answer: RESP answers start with
 * `+` or `-` (`-NOAUTH` too). Anything else is another protocol; no answer in `timeoutMs` says nothing.
 */
export function answersInResp(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (verdict: boolean | undefined) => {
      socket.destroy();
      resolve(verdict);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 0x2b || chunk[0] === 0x2d));
  });
}

// ioredis's RESP parser, given bytes of another protocol (AMQP answers "AMQP\0\0\9\1", HTTP "HTTP/1.1 400").
const NOT_RESP = /^(Unknown RESP type|Protocol error)/;

/** Whether `error` is ioredis's parser meeting a reply that is not RESP. */
export function isNotResp(error: unknown): boolean {
  return error instanceof Error && NOT_RESP.test(error.message);
}

/** The `Config` error for an endpoint that does not speak RESP; names where, never who (no credentials). */
export function notRespError(endpoint: string, cause: unknown): OmnibusError {
  return new OmnibusError(
    'Config',
    `the server at ${endpoint} did not answer in the Redis protocol (RESP): is the URL pointing at another service's port (RabbitMQ's 5672, an HTTP server)?`,
    { driver: 'redis', retryable: false, cause },
  );
}

const faults = new WeakMap<object, ConnectionFault>();

/**
 * Watches `client` for fatal connection errors; `where` (`host:port`) is named in messages. One
 * watch per client, however many drivers share it, so listeners don't pile up on a user's client.
 */
export function watchConnectionFault(
  client: Redis | Cluster,
  where: Endpoint,
  probeTimeoutMs: number,
): ConnectionFault {
  const existing = faults.get(client);
  if (existing !== undefined) return existing;
  const fault = createConnectionFault(client, where, probeTimeoutMs);
  faults.set(client, fault);
  return fault;
}

function createConnectionFault(
  client: Redis | Cluster,
  where: Endpoint,
  probeTimeoutMs: number,
): ConnectionFault {
  const endpoint = `${where.host}:${where.port}`;
  let fatal: OmnibusError | undefined;
  let probing: Promise<boolean | undefined> | undefined;
  // The last connection attempt's failure for want of a peer, until a connection is ready.
  let refused: OmnibusError | undefined;
  const remember = (error: unknown) => {
    // Standalone clients only: a Cluster's node errors say nothing about the cluster as a whole.
    const code = where.probe ? undefined : unreachableCode(error);
    if (code !== undefined) {
      refused = new OmnibusError(
        'Unavailable',
        `Redis at ${endpoint} is unreachable (${code}: ${code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'the host name does not resolve' : 'the connection failed'})`,
        { driver: 'redis', retryable: true, cause: error },
      );
      return;
    }
    if (isNotResp(error)) {
      fatal = notRespError(endpoint, error);
      return;
    }
    const classified = classifyRedisError(error);
    if (classified?.code === 'Unauthenticated' || classified?.code === 'PermissionDenied') {
      scrubCredentials(error);
      fatal = new OmnibusError(classified.code, `${classified.message} (at ${endpoint})`, {
        driver: 'redis',
        retryable: false,
        cause: error,
      });
    }
  };
  client.on('error', remember);
  // A Cluster reports what its node connections meet as `node error`, not `error`.
  client.on('node error', remember);
  // A connection that became ready proves the endpoint and credentials work (now).
  client.on('ready', () => {
    fatal = undefined;
    probing = undefined;
    refused = undefined;
  });
  return {
    unreachable() {
      return refused !== undefined && client.status !== 'ready' ? refused : undefined;
    },
    async explain(error) {
      if (isNotResp(error)) return notRespError(endpoint, error);
      if (error instanceof OmnibusError && error.code !== 'Timeout') return error;
      if (fatal === undefined && refused === undefined && isNoAnswer(error)) {
        if (where.tls) {
          // A rediss:// URL at a plain port: the TLS handshake just hangs or is reset, but the
          // port answers PING in plain RESP. Once per failure streak: a 'ready' connection resets it.
          probing ??= answersInResp(where.host, where.port, probeTimeoutMs);
          if ((await probing) === true) fatal = notTlsError(endpoint, error);
        } else if (where.probe) {
          probing ??= answersInResp(where.host, where.port, probeTimeoutMs);
          if ((await probing) === false) fatal = notRespError(endpoint, error);
        }
      }
      if (fatal === undefined) {
        // Nothing answered because nothing could be reached: say what the connection met.
        return refused !== undefined && isNoAnswer(error) ? refused : error;
      }
      // A non-retryable verdict of the call's own (NOPERM on one key, say) is more precise.
      const own = classifyRedisError(error);
      return own !== undefined && !own.retryable ? error : fatal;
    },
  };
}

/** A failure that only says nothing answered: a timeout, or a Cluster that could not load its slots. */
function isNoAnswer(error: unknown): boolean {
  if (error instanceof OmnibusError) return error.code === 'Timeout';
  const classified = classifyRedisError(error);
  return classified?.code === 'Unavailable' || classified?.code === 'Timeout';
}
