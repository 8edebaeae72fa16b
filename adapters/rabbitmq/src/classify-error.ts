// The one table from amqplib and AMQP errors to Omnibus codes, and the texts for declaration mismatches.
import { classifyWith, type ErrorRule } from '@omnibus/core';
import type { ErrorClassification, ErrorCode } from '@omnibus/core/driver';
import { ARGUMENT_SETTINGS, DELIVERY_LIMIT_MARGIN } from './queue-arguments.js';

const TLS_MISMATCH =
  'the TLS handshake failed: the endpoint does not speak TLS (an amqps:// URL pointed at a plain amqp port?)';

const unavailable = { code: 'Unavailable', retryable: true } as const;
const notRetryable = (code: ErrorCode, message?: string): ErrorClassification =>
  message === undefined ? { code, retryable: false } : { code, retryable: false, message };

/**
 * The one lookup table from native errors to portable codes, first match wins, in core's
 * `classifyWith` shape; Node's socket, DNS and TLS rows come after it from core
 * (`NETWORK_ERROR_RULES`). A number matches the AMQP reply code amqplib puts on `error.code` (or the
 * code in a handshake refusal's text, read by {@link replyCodeOf}), a string matches a Node.js
 * `error.code`, a RegExp matches amqplib's message for the errors it raises without a code.
 *
 * Retryable means the same call may succeed later without anyone changing anything: an outage, a
 * dropped connection, a broker short of resources. Wrong credentials, a missing vhost, a message
 * that can't be encoded and a URL that doesn't point at RabbitMQ never succeed and are not retried.
 */
const RULES: readonly ErrorRule[] = [
  // Login refused during the handshake: the server answers 403 before the connection exists.
  [/Handshake terminated by server: 403/, notRetryable('Unauthenticated')],
  [/ACCESS[-_]REFUSED - Login was refused/, notRetryable('Unauthenticated')],
  // amqplib reports a connection.close in answer to connection.open (530 NOT_ALLOWED) without its text.
  [
    /Expected ConnectionOpenOk; got <ConnectionClose/,
    notRetryable(
      'PermissionDenied',
      'the broker refused to open the virtual host of the URL (530 NOT_ALLOWED): it does not exist, or the user has no permission on it',
    ),
  ],
  [311, notRetryable('MessageTooLarge')], // CONTENT_TOO_LARGE
  [312, notRetryable('NotFound')], // NO_ROUTE (a mandatory message came back)
  [313, unavailable], // NO_CONSUMERS
  [320, unavailable], // CONNECTION_FORCED: close_all_connections, broker shutting down
  [402, notRetryable('Config')], // INVALID_PATH
  [403, notRetryable('PermissionDenied')], // ACCESS_REFUSED on an operation
  [404, notRetryable('NotFound')], // NOT_FOUND
  [405, unavailable], // RESOURCE_LOCKED: an exclusive consumer holds the queue
  [406, notRetryable('InvalidArgument')], // PRECONDITION_FAILED (declares map it to AlreadyExists themselves)
  [501, unavailable], // FRAME_ERROR: connection-level, the adapter reconnects
  [502, notRetryable('Internal')], // SYNTAX_ERROR
  [503, notRetryable('Internal')], // COMMAND_INVALID
  [504, notRetryable('Internal')], // CHANNEL_ERROR
  [505, notRetryable('Internal')], // UNEXPECTED_FRAME
  [506, unavailable], // RESOURCE_ERROR: out of memory or disk on the broker
  [530, notRetryable('PermissionDenied')], // NOT_ALLOWED: vhost missing or access to it refused
  [540, notRetryable('Unsupported')], // NOT_IMPLEMENTED
  [541, unavailable], // INTERNAL_ERROR: e.g. no quorum leader while a node restarts
  ['ERR_SSL_WRONG_VERSION_NUMBER', notRetryable('Config', TLS_MISMATCH)],
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', notRetryable('Config', TLS_MISMATCH)],
  ['ERR_INVALID_URL', notRetryable('Config')],
  [/Expected amqp: or amqps:/, notRetryable('Config')],
  [/Server frameMax \d+ is below the protocol minimum/, notRetryable('Config')],
  [
    /^Frame size \d+ exceeds maxFrameSize|^Unknown frame type|Frame on channel != 0 during handshake/,
    notRetryable(
      'Config',
      'the endpoint did not answer in AMQP 0-9-1 (its first bytes are not an AMQP frame): check the host and port of the URL',
    ),
  ],
  // Raised by amqplib before anything is written: the same message can never be sent.
  [/exceeds the \d+ byte encoding buffer/, notRetryable('MessageTooLarge')],
  [/^Field '\w+' is the wrong type|^content is not a buffer/, notRetryable('InvalidArgument')],
  ['ERR_OUT_OF_RANGE', notRetryable('InvalidArgument')], // a header number amqplib can't encode
  [/connect ETIMEDOUT|no AMQP connection within/, unavailable],
  // amqplib's own errors, raised without a reply code when a channel or the connection went away.
  [/message nacked/, unavailable],
  [
    /channel closed|Channel closed|Channel ended|Connection closed|Socket closed|Unexpected close|Heartbeat timeout/,
    unavailable,
  ],
];

/** The AMQP reply code: amqplib's numeric `error.code`, or the code in a handshake refusal's text. */
function replyCodeOf(error: { code?: unknown; message: string }): number | undefined {
  if (typeof error.code === 'number') return error.code;
  const fromText = /: (\d{3}) \([A-Z_-]+\)/.exec(String(error.message));
  return fromText?.[1] === undefined ? undefined : Number(fromText[1]);
}

/** Classifies an amqplib or socket error; `undefined` when nothing in the table matches. */
export const classifyError: (error: unknown) => ErrorClassification | undefined = classifyWith(
  RULES,
  { codeOf: replyCodeOf },
);

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
  if (argument === 'x-delivery-limit') {
    const explained = describeDeliveryLimit(name, detail);
    if (explained !== undefined) return explained;
  }
  const setting = ARGUMENT_SETTINGS[argument];
  return (
    `${kind} "${name}" already exists with a different "${argument}"` +
    `${setting === undefined ? '' : ` (${setting})`}: ${detail}. ` +
    'RabbitMQ cannot change the arguments of an existing queue or exchange: delete it or use the settings it was created with'
  );
}

/** A value in a PRECONDITION_FAILED text: `'13'`, `the value '2' of type 'byte'`, or `none`. */
const VALUE = "(none|'[^']*'|the value '[^']*' of type '[^']*')";
const RECEIVED_CURRENT = new RegExp(`received ${VALUE} but current is ${VALUE}`);

/** The number in a {@link VALUE}, `undefined` for none. */
function argumentValue(text: string): number | undefined {
  const quoted = /'(-?\d+)'/.exec(text)?.[1];
  return quoted === undefined ? undefined : Number(quoted);
}

/**
 * The queue's `x-delivery-limit` differs from the one this version declares. The user's maxAttempts
 * need not have changed: @omnibus/rabbitmq 0.1 declared maxAttempts − 1, this version declares
 * maxAttempts + DELIVERY_LIMIT_MARGIN. So the message says what the queue has, which maxAttempts
 * that stands for under either rule, and what this consumer declares.
 */
function describeDeliveryLimit(name: string, detail: string): string | undefined {
  const values = RECEIVED_CURRENT.exec(detail);
  if (values === null) return undefined;
  const received = argumentValue(values[1] ?? '');
  const current = argumentValue(values[2] ?? '');
  const has =
    current === undefined
      ? 'without x-delivery-limit (deadLetter false, or no maxAttempts)'
      : `with x-delivery-limit ${current} (maxAttempts ${current + 1} as @omnibus/rabbitmq 0.1 declared it${
          current > DELIVERY_LIMIT_MARGIN
            ? `, or ${current} - ${DELIVERY_LIMIT_MARGIN} = ${current - DELIVERY_LIMIT_MARGIN} as this version declares it`
            : '; no maxAttempts gives it in this version'
        })`;
  const declares =
    received === undefined
      ? 'declares none (deadLetter false, or no maxAttempts)'
      : `declares ${received} for maxAttempts ${received - DELIVERY_LIMIT_MARGIN} (maxAttempts + ${DELIVERY_LIMIT_MARGIN})`;
  return (
    `queue "${name}" already exists with a different "x-delivery-limit" (maxAttempts): it was declared ${has}; ` +
    `this consumer ${declares}. RabbitMQ cannot change the arguments of an existing queue: ` +
    'drain and delete the queue (it is declared again on the next ready()), or use the maxAttempts it was declared with'
  );
}
