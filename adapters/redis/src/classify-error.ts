// The one lookup table from Redis and ioredis errors to portable codes, and credential scrubbing.
import type { ErrorClassification } from '@omnibus/core/driver';

/*
 * Retryable means "the same call may succeed if made again": a broker that is down, busy, failing
 * over or out of memory. An error that no retry can fix (wrong endpoint, wrong credentials, a server
 * too old, a value Redis refuses) is not retryable, so core fails the call at once instead of at
 * operationTimeoutMs.
 */

const unavailable = (message: string): ErrorClassification => ({
  code: 'Unavailable',
  retryable: true,
  message,
});

const config = (message: string): ErrorClassification => ({
  code: 'Config',
  retryable: false,
  message,
});

/**
 * The one lookup table from Redis and ioredis errors to portable codes. Keys are, in order of
 * lookup: the error's leading word (Redis reply errors start with a code: `NOGROUP`, `WRONGPASS`),
 * its Node `code` (`ECONNREFUSED`), its class name (`MaxRetriesPerRequestError`), then the start of
 * its message (`Connection is closed.`, `ERR max number of clients`).
 */
const TABLE: ReadonlyArray<readonly [match: string, classification: ErrorClassification]> = [
  // Reply errors, by leading code.
  [
    'NOGROUP',
    {
      code: 'NotFound',
      retryable: true,
      message:
        'the consumer group does not exist (the server may have lost its data); it is recreated on the next receive',
    },
  ],
  [
    'NOAUTH',
    {
      code: 'Unauthenticated',
      retryable: false,
      message: 'the Redis server requires authentication (NOAUTH): pass a user and password',
    },
  ],
  [
    'WRONGPASS',
    {
      code: 'Unauthenticated',
      retryable: false,
      message: 'the Redis server rejected the user name or password (WRONGPASS)',
    },
  ],
  [
    'NOPERM',
    {
      code: 'PermissionDenied',
      retryable: false,
      message:
        'the Redis user lacks a permission this command needs (NOPERM): grant the stream, sorted-set and scripting commands on the omnibus keys',
    },
  ],
  [
    'WRONGTYPE',
    {
      code: 'AlreadyExists',
      retryable: false,
      message: 'a Redis key that Omnibus uses holds a value of another type (WRONGTYPE)',
    },
  ],
  [
    'BUSYGROUP',
    {
      code: 'AlreadyExists',
      retryable: false,
      message: 'the consumer group already exists (BUSYGROUP)',
    },
  ],
  [
    'CROSSSLOT',
    {
      code: 'Config',
      retryable: false,
      message:
        'keys of one operation are in different cluster slots (CROSSSLOT); is a keyPrefix with braces configured on the client?',
    },
  ],
  ['OOM', unavailable('Redis is out of memory (OOM): maxmemory reached')],
  ['LOADING', unavailable('Redis is loading its dataset (LOADING)')],
  ['BUSY', unavailable('Redis is busy running a script (BUSY)')],
  ['MASTERDOWN', unavailable('the Redis replica has lost its master (MASTERDOWN)')],
  [
    'READONLY',
    unavailable('the Redis node is a read-only replica (READONLY): failover in progress?'),
  ],
  ['TRYAGAIN', unavailable('the cluster is moving the slot (TRYAGAIN)')],
  ['CLUSTERDOWN', unavailable('the Redis cluster is down (CLUSTERDOWN)')],
  ['MISCONF', unavailable('Redis cannot persist and refuses writes (MISCONF)')],
  ['NOREPLICAS', unavailable('not enough Redis replicas acknowledged (NOREPLICAS)')],
  [
    'NOSCRIPT',
    {
      code: 'Internal',
      retryable: true,
      message: 'the Lua script was not loaded on the node (NOSCRIPT)',
    },
  ],
  [
    'EXECABORT',
    { code: 'Internal', retryable: false, message: 'a Redis transaction was aborted (EXECABORT)' },
  ],
  [
    'MOVED',
    config(
      'the server is a Redis Cluster node and redirected the command (MOVED): connect with ?cluster=true or a Cluster client',
    ),
  ],
  ['ASK', config('the server is a Redis Cluster node (ASK): connect with ?cluster=true')],
  [
    'NOPROTO',
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server does not speak the requested protocol version (NOPROTO)',
    },
  ],
  // Node socket errors.
  ['ECONNREFUSED', unavailable('Redis refused the connection (ECONNREFUSED)')],
  ['ECONNRESET', unavailable('the connection to Redis was reset (ECONNRESET)')],
  ['ETIMEDOUT', unavailable('the connection to Redis timed out (ETIMEDOUT)')],
  ['EPIPE', unavailable('the connection to Redis broke (EPIPE)')],
  ['EHOSTUNREACH', unavailable('the Redis host is unreachable (EHOSTUNREACH)')],
  ['ENETUNREACH', unavailable('the network to Redis is unreachable (ENETUNREACH)')],
  ['ENOTFOUND', unavailable('the Redis host name does not resolve (ENOTFOUND)')],
  ['EAI_AGAIN', unavailable('the Redis host name could not be resolved right now (EAI_AGAIN)')],
  ['ECONNABORTED', unavailable('the connection to Redis was aborted (ECONNABORTED)')],
  ['EADDRNOTAVAIL', unavailable('no local address to reach Redis from (EADDRNOTAVAIL)')],
  // TLS: a certificate or protocol mismatch never fixes itself by trying again.
  [
    'EPROTO',
    config(
      'the TLS handshake with Redis failed (EPROTO): is rediss:// pointing at a port without TLS?',
    ),
  ],
  [
    'ERR_SSL_WRONG_VERSION_NUMBER',
    config('the TLS handshake with Redis failed: is rediss:// pointing at a port without TLS?'),
  ],
  [
    'ERR_TLS_CERT_ALTNAME_INVALID',
    config("the Redis server's TLS certificate does not name this host"),
  ],
  ['CERT_HAS_EXPIRED', config("the Redis server's TLS certificate has expired")],
  [
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    config("the Redis server's TLS certificate is self-signed: pass its CA in redisOptions.tls"),
  ],
  [
    'SELF_SIGNED_CERT_IN_CHAIN',
    config("the Redis server's TLS chain is self-signed: pass its CA in redisOptions.tls"),
  ],
  [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    config("the Redis server's TLS certificate can't be verified: pass its CA in redisOptions.tls"),
  ],
  // ioredis error classes.
  [
    'MaxRetriesPerRequestError',
    unavailable(
      "Redis stayed unreachable for ioredis's maxRetriesPerRequest reconnection attempts",
    ),
  ],
  ['ClusterAllFailedError', unavailable('no Redis cluster node answered')],
  ['AbortError', unavailable('the command was aborted because the connection closed')],
  // ioredis messages.
  ['Connection is closed.', unavailable('the connection to Redis is closed (reconnecting)')],
  [
    "Stream isn't writeable",
    unavailable('the connection to Redis is down and the offline queue is disabled'),
  ],
  [
    'Command timed out',
    { code: 'Timeout', retryable: true, message: 'the Redis command timed out (commandTimeout)' },
  ],
  ['None of startup nodes is available', unavailable('no Redis cluster startup node is reachable')],
  [
    'Too many Cluster redirections',
    unavailable('too many Redis cluster redirections (resharding?)'),
  ],
  [
    'Failed to refresh slots cache',
    unavailable('the Redis cluster slot map could not be refreshed'),
  ],
  ["Cluster isn't ready", unavailable('the Redis cluster client is not ready')],
  ['ERR max number of clients reached', unavailable('Redis has reached maxclients')],
  [
    'ERR unknown command',
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server lacks a command Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  [
    'ERR syntax error',
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server rejected a command Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  [
    'ERR Invalid stream ID',
    { code: 'InvalidArgument', retryable: false, message: 'invalid stream id' },
  ],
  [
    'ERR unknown subcommand',
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server lacks a subcommand Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  // The peer is not Redis at all (RabbitMQ, HTTP): ioredis's parser meets another protocol.
  [
    'Unknown RESP type',
    config(
      'the server did not answer in the Redis protocol (RESP): is the URL pointing at another service?',
    ),
  ],
  [
    'Protocol error',
    config(
      'the server did not answer in the Redis protocol (RESP): is the URL pointing at another service?',
    ),
  ],
  [
    'ERR invalid password',
    {
      code: 'Unauthenticated',
      retryable: false,
      message: 'the Redis server rejected the password',
    },
  ],
  ['ERR AUTH', config('a password was given but the Redis server has none configured (ERR AUTH)')],
  ['ERR Client sent AUTH', config('a password was given but the Redis server has none configured')],
  [
    'ERR DB index is out of range',
    config('the database number in the URL is out of range for this Redis server'),
  ],
  ['ERR invalid DB index', config('the database number in the URL is not valid')],
  [
    'ERR SELECT is not allowed in cluster mode',
    config('a Redis Cluster has only database 0: drop the /db from the URL'),
  ],
  [
    'ERR This instance has cluster support disabled',
    config('cluster=true, but the Redis server is not a Cluster node'),
  ],
  [
    'ERR string exceeds maximum allowed size',
    {
      code: 'MessageTooLarge',
      retryable: false,
      message: "a value exceeds the Redis server's proto-max-bulk-len",
    },
  ],
  [
    'ERR Protocol error: invalid bulk length',
    {
      code: 'MessageTooLarge',
      retryable: false,
      message: "a value exceeds the Redis server's proto-max-bulk-len",
    },
  ],
  [
    'ERR The stream has exhausted the last possible ID',
    {
      code: 'Internal',
      retryable: false,
      message:
        'the stream holds an entry with the largest possible id (a plain client XADDed it): nothing can be added after it',
    },
  ],
  [
    'ERR value is not an integer or out of range',
    {
      code: 'InvalidArgument',
      retryable: false,
      message: 'Redis refused a number argument as out of range',
    },
  ],
];

const BY_KEY = new Map(TABLE);
const BY_PREFIX = TABLE.filter(([match]) => match.includes(' ') || match.includes('.'));

/** Maps a Redis or ioredis error onto a portable code; `undefined` for errors it does not know. */
export function classifyRedisError(error: unknown): ErrorClassification | undefined {
  if (!(error instanceof Error)) return undefined;
  scrubCredentials(error);
  const message = error.message;
  const leading = message.slice(0, message.search(/[\s:]|$/));
  const code = (error as { code?: unknown }).code;
  const found =
    BY_KEY.get(leading) ??
    (typeof code === 'string' ? BY_KEY.get(code) : undefined) ??
    BY_KEY.get(error.name) ??
    BY_PREFIX.find(([match]) => message.startsWith(match))?.[1] ??
    (message.includes('NOGROUP') ? BY_KEY.get('NOGROUP') : undefined);
  if (found !== undefined) return found;
  // A failed Lua script reports the inner command's error after its own prefix.
  const inner = /\b(NOGROUP|WRONGTYPE|OOM|NOPERM|BUSYGROUP|CROSSSLOT)\b/.exec(message)?.[1];
  return inner === undefined ? undefined : BY_KEY.get(inner);
}

/** Whether the error says the consumer group (or its stream) is gone. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}

/**
 * ioredis attaches the failed command to its errors, and for `AUTH` / `HELLO … AUTH` that includes
 * the password. Errors leave the driver as the `cause` of an `OmnibusError`, so the arguments of
 * those commands are blanked before anyone can log them.
 */
export function scrubCredentials(error: unknown): void {
  if (typeof error !== 'object' || error === null) return;
  const command = (error as { command?: { name?: unknown; args?: unknown } }).command;
  if (command === undefined || command === null || typeof command !== 'object') return;
  const name = typeof command.name === 'string' ? command.name.toLowerCase() : '';
  if (
    name === 'auth' ||
    name === 'hello' ||
    name === 'migrate' ||
    name === 'acl' ||
    name === 'config'
  ) {
    try {
      command.args = ['[redacted]'];
    } catch {
      // A frozen command object: nothing we can do, and ioredis does not freeze them.
    }
  }
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  if (Array.isArray(previous)) for (const inner of previous) scrubCredentials(inner);
}
