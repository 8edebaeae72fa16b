// The one lookup table from Redis and ioredis errors to portable codes, and credential scrubbing.
import { classifyWith, type ErrorMatch, type ErrorRule } from '@omnibus/core';
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

/** Matches a message that starts with `text` (ioredis messages; Redis replies whose code is just `ERR`). */
function startsWith(text: string): ErrorMatch {
  return (error) => typeof error.message === 'string' && error.message.startsWith(text);
}

/** A failed Lua script reports the inner command's error after its own prefix (`ERR Error running script … NOGROUP …`). */
function inScript(code: string): ErrorMatch {
  const inner = new RegExp(`\\b${code}\\b`);
  return (error) => typeof error.message === 'string' && inner.test(error.message);
}

/**
 * The one lookup table from Redis and ioredis errors to portable codes, read by core's
 * `classifyWith` (first match wins, then core's Node network rows). A string matches the error's
 * leading word (Redis reply errors start with a code: `NOGROUP`, `WRONGPASS`), its Node `code`
 * (`EPROTO`) or its class name (`MaxRetriesPerRequestError`); `startsWith` the start of its message
 * (`Connection is closed.`, `ERR max number of clients`); `inScript` a code inside a script's error.
 */
const RULES: readonly ErrorRule[] = [
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
  // TLS: a protocol mismatch never fixes itself by trying again. (Node's socket and certificate
  // codes are core's NETWORK_ERROR_RULES; the rows here say what to change for Redis.)
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
    unavailable('Redis could not be reached: the connection failed, and so did a reconnection'),
  ],
  ['ClusterAllFailedError', unavailable('no Redis cluster node answered')],
  ['AbortError', unavailable('the command was aborted because the connection closed')],
  // ioredis messages.
  [
    startsWith('Connection is closed.'),
    unavailable('the connection to Redis is closed (reconnecting)'),
  ],
  [
    startsWith("Stream isn't writeable"),
    unavailable('the connection to Redis is down and the offline queue is disabled'),
  ],
  [
    startsWith('Command timed out'),
    { code: 'Timeout', retryable: true, message: 'the Redis command timed out (commandTimeout)' },
  ],
  [
    startsWith('None of startup nodes is available'),
    unavailable('no Redis cluster startup node is reachable'),
  ],
  [
    startsWith('Too many Cluster redirections'),
    unavailable('too many Redis cluster redirections (resharding?)'),
  ],
  [
    startsWith('Failed to refresh slots cache'),
    unavailable('the Redis cluster slot map could not be refreshed'),
  ],
  [startsWith("Cluster isn't ready"), unavailable('the Redis cluster client is not ready')],
  [startsWith('ERR max number of clients reached'), unavailable('Redis has reached maxclients')],
  [
    startsWith('ERR unknown command'),
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server lacks a command Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  [
    startsWith('ERR syntax error'),
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server rejected a command Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  [
    startsWith('ERR Invalid stream ID'),
    { code: 'InvalidArgument', retryable: false, message: 'invalid stream id' },
  ],
  [
    startsWith('ERR unknown subcommand'),
    {
      code: 'Unsupported',
      retryable: false,
      message: 'the Redis server lacks a subcommand Omnibus needs: Redis 7.0 or later is required',
    },
  ],
  // The peer is not Redis at all (RabbitMQ, HTTP): ioredis's parser meets another protocol.
  [
    startsWith('Unknown RESP type'),
    config(
      'the server did not answer in the Redis protocol (RESP): is the URL pointing at another service?',
    ),
  ],
  [
    startsWith('Protocol error'),
    config(
      'the server did not answer in the Redis protocol (RESP): is the URL pointing at another service?',
    ),
  ],
  [
    startsWith('ERR invalid password'),
    {
      code: 'Unauthenticated',
      retryable: false,
      message: 'the Redis server rejected the password',
    },
  ],
  [
    startsWith('ERR AUTH'),
    config('a password was given but the Redis server has none configured (ERR AUTH)'),
  ],
  [
    startsWith('ERR Client sent AUTH'),
    config('a password was given but the Redis server has none configured'),
  ],
  [
    startsWith('ERR DB index is out of range'),
    config('the database number in the URL is out of range for this Redis server'),
  ],
  [startsWith('ERR invalid DB index'), config('the database number in the URL is not valid')],
  [
    startsWith('ERR SELECT is not allowed in cluster mode'),
    config('a Redis Cluster has only database 0: drop the /db from the URL'),
  ],
  [
    startsWith('ERR This instance has cluster support disabled'),
    config('cluster=true, but the Redis server is not a Cluster node'),
  ],
  [
    startsWith('ERR string exceeds maximum allowed size'),
    {
      code: 'MessageTooLarge',
      retryable: false,
      message: "a value exceeds the Redis server's proto-max-bulk-len",
    },
  ],
  [
    startsWith('ERR Protocol error: invalid bulk length'),
    {
      code: 'MessageTooLarge',
      retryable: false,
      message: "a value exceeds the Redis server's proto-max-bulk-len",
    },
  ],
  [
    startsWith('ERR The stream has exhausted the last possible ID'),
    {
      code: 'Internal',
      retryable: false,
      message:
        'the stream holds an entry with the largest possible id (a plain client XADDed it): nothing can be added after it',
    },
  ],
  [
    startsWith('ERR value is not an integer or out of range'),
    {
      code: 'InvalidArgument',
      retryable: false,
      message: 'Redis refused a number argument as out of range',
    },
  ],
];

/** Codes a script's error may carry inside it, classified as the same code on its own. */
const SCRIPT_INNER = ['NOGROUP', 'WRONGTYPE', 'OOM', 'NOPERM', 'BUSYGROUP', 'CROSSSLOT'];

const classify = classifyWith([
  ...RULES,
  ...SCRIPT_INNER.map((code): ErrorRule => {
    const row = RULES.find(([match]) => match === code);
    if (row === undefined) throw new Error(`no row for ${code}`);
    return [inScript(code), row[1]];
  }),
]);

/** Maps a Redis or ioredis error onto a portable code; `undefined` for errors it does not know. */
export function classifyRedisError(error: unknown): ErrorClassification | undefined {
  scrubCredentials(error);
  return classify(error);
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
