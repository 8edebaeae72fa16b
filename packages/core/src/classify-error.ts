// The shape of an adapter's one error table, and the Node network rows every adapter shares.
import type { ErrorClassification } from './driver.js';

/** A native error as the table sees it. */
export type NativeError = Error & {
  /** A Node or client library error code (`ECONNREFUSED`, an AWS error name), when there is one. */
  readonly code?: unknown;
};

/**
 * What a row matches, tried against the error (and, when nothing matched, its `cause`, up to three
 * levels deep, as client libraries wrap socket errors). "The code" is `error.code`, or what the
 * table's `codeOf` reads:
 * - a **string**: the code (a Node code such as `ECONNREFUSED`, an AWS error code), or
 *   `error.name` (a class name: `MaxRetriesPerRequestError`, `ThrottlingException`), or the
 *   message's leading word up to a space or `:` (Redis reply codes: `NOGROUP`, `WRONGPASS`);
 * - a **number**: a numeric code (an AMQP reply code, a gRPC status);
 * - a **RegExp**: the message (`/^Connection is closed\./`, `/Handshake terminated by server: 403/`);
 * - a **function**: anything else (a reply code parsed from the message, a status on a response).
 */
export type ErrorMatch = string | number | RegExp | ((error: NativeError) => boolean);

/** One row: what it matches, and the portable classification (with a message replacing the native one, if given). */
export type ErrorRule = readonly [match: ErrorMatch, classification: ErrorClassification];

const unavailable: ErrorClassification = Object.freeze({ code: 'Unavailable', retryable: true });
const config: ErrorClassification = Object.freeze({ code: 'Config', retryable: false });

/**
 * Node's socket, DNS and TLS errors, the same on every adapter. Network failures are
 * `Unavailable` and retryable; a certificate the client refuses is `Config` and not retryable. No
 * message: the native one names the address (`connect ECONNREFUSED 127.0.0.1:6379`), which is
 * what a reader needs.
 */
export const NETWORK_ERROR_RULES: readonly ErrorRule[] = Object.freeze([
  ['ECONNREFUSED', unavailable],
  ['ECONNRESET', unavailable],
  ['ECONNABORTED', unavailable],
  ['ETIMEDOUT', unavailable],
  ['EPIPE', unavailable],
  ['ENOTFOUND', unavailable],
  ['EAI_AGAIN', unavailable],
  ['EHOSTUNREACH', unavailable],
  ['EHOSTDOWN', unavailable],
  ['ENETUNREACH', unavailable],
  ['ENETDOWN', unavailable],
  ['ENOTCONN', unavailable],
  ['ERR_SOCKET_CONNECTION_TIMEOUT', unavailable],
  ['ERR_SOCKET_CLOSED', unavailable],
  ['UND_ERR_SOCKET', unavailable],
  ['UND_ERR_CONNECT_TIMEOUT', unavailable],
  ['ERR_TLS_CERT_ALTNAME_INVALID', config],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', config],
  ['SELF_SIGNED_CERT_IN_CHAIN', config],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', config],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', config],
  ['CERT_HAS_EXPIRED', config],
] as const satisfies readonly ErrorRule[]);

const MAX_CAUSE_DEPTH = 3;

/** Options of {@link classifyWith}. */
export interface ClassifyOptions {
  /**
   * Reads an error's code where `error.code` alone doesn't say it (RabbitMQ: the AMQP reply code
   * of a handshake refusal is only in the message text). `undefined` falls back to `error.code`.
   */
  codeOf?(error: NativeError): unknown;
}

/**
 * Builds a driver's `classifyError` from its one table: the adapter's rows first, first match
 * wins, then {@link NETWORK_ERROR_RULES} (an adapter row for the same code overrides it, with a
 * better message). Returns `undefined` for an error no row matches (core then says `Internal`).
 * Anything else the adapter must do to an error (Redis blanks `AUTH` arguments) it does in its
 * own `classifyError` around the function this returns.
 *
 * ```ts
 * const classifyError = classifyWith([
 *   ['NOGROUP', { code: 'NotFound', retryable: true, message: 'the consumer group does not exist' }],
 *   [404, { code: 'NotFound', retryable: false }],
 *   [/^Connection is closed\./, { code: 'Unavailable', retryable: true }],
 * ]);
 * ```
 */
export function classifyWith(
  rules: readonly ErrorRule[],
  options: ClassifyOptions = {},
): (error: unknown) => ErrorClassification | undefined {
  const table = [...rules, ...NETWORK_ERROR_RULES];
  const codeOf = options.codeOf;
  const classify = (error: unknown, depth: number): ErrorClassification | undefined => {
    if (!(error instanceof Error)) return undefined;
    const native = error as NativeError;
    const code = codeOf?.(native) ?? native.code;
    const message = typeof native.message === 'string' ? native.message : '';
    const leading = message.slice(0, Math.max(0, message.search(/[\s:]|$/)));
    for (const [match, classification] of table) {
      const hit =
        typeof match === 'string'
          ? code === match || native.name === match || leading === match
          : typeof match === 'number'
            ? code === match
            : match instanceof RegExp
              ? match.test(message)
              : match(native);
      if (hit) return classification;
    }
    return depth < MAX_CAUSE_DEPTH ? classify(native.cause, depth + 1) : undefined;
  };
  return (error) => {
    try {
      return classify(error, 0);
    } catch {
      // A throwing getter or predicate on a foreign error: not classifiable, never a crash.
      return undefined;
    }
  };
}
