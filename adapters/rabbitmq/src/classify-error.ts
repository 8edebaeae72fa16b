// The one table from amqplib, AMQP and socket errors to Omnibus codes, and the texts for declaration mismatches.
import type { ErrorClassification, ErrorCode } from '@omnibus/core/driver';
import { ARGUMENT_SETTINGS } from './topology.js';

type Rule = readonly [
  match: number | string | RegExp,
  code: ErrorCode,
  retryable: boolean,
  /** Replaces amqplib's text where that text says nothing useful. */
  message?: string,
];

const TLS_MISMATCH =
  'the TLS handshake failed: the endpoint does not speak TLS (an amqps:// URL pointed at a plain amqp port?)';

/**
 * The one lookup table from native errors to portable codes, first match wins. A number matches
 * the AMQP reply code amqplib puts on `error.code` (or the code in a handshake refusal's text), a
 * string matches a Node.js `error.code`, a RegExp matches amqplib's message for the errors it
 * raises without a code.
 *
 * Retryable means the same call may succeed later without anyone changing anything: an outage, a
 * dropped connection, a broker short of resources. Wrong credentials, a missing vhost, a message
 * that can't be encoded and a URL that doesn't point at RabbitMQ never succeed and are not retried.
 */
const RULES: readonly Rule[] = [
  // Login refused during the handshake: the server answers 403 before the connection exists.
  [/Handshake terminated by server: 403/, 'Unauthenticated', false],
  [/ACCESS[-_]REFUSED - Login was refused/, 'Unauthenticated', false],
  // amqplib reports a connection.close in answer to connection.open (530 NOT_ALLOWED) without its text.
  [
    /Expected ConnectionOpenOk; got <ConnectionClose/,
    'PermissionDenied',
    false,
    'the broker refused to open the virtual host of the URL (530 NOT_ALLOWED): it does not exist, or the user has no permission on it',
  ],
  [311, 'MessageTooLarge', false], // CONTENT_TOO_LARGE
  [312, 'NotFound', false], // NO_ROUTE (a mandatory message came back)
  [313, 'Unavailable', true], // NO_CONSUMERS
  [320, 'Unavailable', true], // CONNECTION_FORCED: close_all_connections, broker shutting down
  [402, 'Config', false], // INVALID_PATH
  [403, 'PermissionDenied', false], // ACCESS_REFUSED on an operation
  [404, 'NotFound', false], // NOT_FOUND
  [405, 'Unavailable', true], // RESOURCE_LOCKED: an exclusive consumer holds the queue
  [406, 'InvalidArgument', false], // PRECONDITION_FAILED (declares map it to AlreadyExists themselves)
  [501, 'Unavailable', true], // FRAME_ERROR: connection-level, the adapter reconnects
  [502, 'Internal', false], // SYNTAX_ERROR
  [503, 'Internal', false], // COMMAND_INVALID
  [504, 'Internal', false], // CHANNEL_ERROR
  [505, 'Internal', false], // UNEXPECTED_FRAME
  [506, 'Unavailable', true], // RESOURCE_ERROR: out of memory or disk on the broker
  [530, 'PermissionDenied', false], // NOT_ALLOWED: vhost missing or access to it refused
  [540, 'Unsupported', false], // NOT_IMPLEMENTED
  [541, 'Unavailable', true], // INTERNAL_ERROR: e.g. no quorum leader while a node restarts
  ['ECONNREFUSED', 'Unavailable', true],
  ['ECONNRESET', 'Unavailable', true],
  ['ECONNABORTED', 'Unavailable', true],
  ['ETIMEDOUT', 'Unavailable', true],
  ['EPIPE', 'Unavailable', true],
  ['EHOSTUNREACH', 'Unavailable', true],
  ['ENETUNREACH', 'Unavailable', true],
  ['EAI_AGAIN', 'Unavailable', true],
  ['ENOTFOUND', 'Unavailable', true],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'Config', false],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'Config', false],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'Config', false],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'Config', false],
  ['CERT_HAS_EXPIRED', 'Config', false],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'Config', false, TLS_MISMATCH],
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'Config', false, TLS_MISMATCH],
  ['ERR_INVALID_URL', 'Config', false],
  [/Expected amqp: or amqps:/, 'Config', false],
  [/Server frameMax \d+ is below the protocol minimum/, 'Config', false],
  [
    /^Frame size \d+ exceeds maxFrameSize|^Unknown frame type|Frame on channel != 0 during handshake/,
    'Config',
    false,
    'the endpoint did not answer in AMQP 0-9-1 (its first bytes are not an AMQP frame): check the host and port of the URL',
  ],
  // Raised by amqplib before anything is written: the same message can never be sent.
  [/exceeds the \d+ byte encoding buffer/, 'MessageTooLarge', false],
  [/^Field '\w+' is the wrong type|^content is not a buffer/, 'InvalidArgument', false],
  ['ERR_OUT_OF_RANGE', 'InvalidArgument', false], // a header number amqplib can't encode
  [/connect ETIMEDOUT|no AMQP connection within/, 'Unavailable', true],
  // amqplib's own errors, raised without a reply code when a channel or the connection went away.
  [/message nacked/, 'Unavailable', true],
  [
    /channel closed|Channel closed|Channel ended|Connection closed|Socket closed|Unexpected close|Heartbeat timeout/,
    'Unavailable',
    true,
  ],
];

function replyCodeOf(error: { code?: unknown; message: string }): number | undefined {
  if (typeof error.code === 'number') return error.code;
  const fromText = /: (\d{3}) \([A-Z_-]+\)/.exec(error.message);
  return fromText?.[1] === undefined ? undefined : Number(fromText[1]);
}

/** Classifies an amqplib or socket error; `undefined` when nothing in the table matches. */
export function classifyError(error: unknown): ErrorClassification | undefined {
  if (!(error instanceof Error)) return undefined;
  const withCode = error as Error & { code?: unknown };
  const replyCode = replyCodeOf(withCode);
  for (const [match, code, retryable, message] of RULES) {
    const hit =
      typeof match === 'number'
        ? replyCode === match
        : typeof match === 'string'
          ? withCode.code === match
          : match.test(error.message);
    if (hit) return message === undefined ? { code, retryable } : { code, retryable, message };
  }
  return undefined;
}

/** Whether an error says a declaration met an existing object with other settings. */
export function isPreconditionFailed(error: unknown): boolean {
  return error instanceof Error && replyCodeOf(error as Error & { code?: unknown }) === 406;
}

/** The argument named in a PRECONDITION_FAILED reply ("inequivalent arg 'x-delivery-limit' …"). */
export function inequivalentArgument(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return /inequivalent arg '([^']+)'/.exec(error.message)?.[1];
}

/** Explains a PRECONDITION_FAILED on a declaration in Omnibus terms. */
export function describeMismatch(kind: 'queue' | 'exchange', name: string, error: unknown): string {
  const argument = inequivalentArgument(error);
  const detail =
    error instanceof Error
      ? (/PRECONDITION_FAILED - ([^"]*)/.exec(error.message)?.[1] ?? error.message)
      : String(error);
  if (argument === undefined)
    return `${kind} "${name}" already exists with other settings (${detail})`;
  const setting = ARGUMENT_SETTINGS[argument];
  return (
    `${kind} "${name}" already exists with a different "${argument}"` +
    `${setting === undefined ? '' : ` (${setting})`}: ${detail}. ` +
    'RabbitMQ cannot change the arguments of an existing queue or exchange: delete it or use the settings it was created with'
  );
}
