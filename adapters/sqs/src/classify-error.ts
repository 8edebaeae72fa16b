// The one table from AWS SQS/SNS error names (and the SDK's own errors) to Omnibus codes.
import { classifyWith, type ErrorRule, type NativeError, OmnibusError } from '@omnibus/core';
import type { ErrorClassification, ErrorCode } from '@omnibus/core/driver';

const retryable = (code: ErrorCode, message?: string): ErrorClassification =>
  message === undefined ? { code, retryable: true } : { code, retryable: true, message };
const fatal = (code: ErrorCode, message?: string): ErrorClassification =>
  message === undefined ? { code, retryable: false } : { code, retryable: false, message };

/** What an invalid or expired receipt handle means: the lease on that delivery is gone. */
export const LEASE_LOST =
  'lease lost: the receipt handle is no longer valid (the visibility timeout ran out and the message was received again, or it was deleted)';

export const WRONG_PROTOCOL =
  'the endpoint did not answer like SQS/SNS (its reply is not an AWS response): check the endpoint of the URL';

/** The endpoint answered in bytes that are not HTTP at all (an AMQP or Redis port): certain, so not retried. */
export const NOT_HTTP =
  'not an SQS endpoint: the server at the endpoint does not answer in HTTP (another protocol on that port?): check the endpoint of the URL';

/**
 * The server closed the connection before any byte of an answer. A port of another protocol does
 * that on every try (Redis drops a client that sends an HTTP request line), but so does a real
 * endpoint closing an idle keep-alive connection just as a request goes out, or a proxy dropping
 * one: not certain, so it stays retryable, and the message names both.
 */
export const HUNG_UP =
  'the endpoint closed the connection without an answer (socket hang up): if this persists, the endpoint may not be SQS/SNS (a Redis port does this), check the endpoint of the URL; otherwise a proxy or the service dropped the connection';

/**
 * AWS error names, with and without the `AWS.SimpleQueueService.` prefix (the SDK reports the
 * JSON-protocol name, `x-amzn-query-error` and moto/fauxqs the query-protocol code), so one row
 * lists both. First match wins; Node's socket, DNS and TLS rows come after from core.
 *
 * Retryable means the same call may succeed later without anyone changing anything: throttling, a
 * service hiccup, a queue deleted less than 60 s ago. Access denied, bad credentials and bad
 * arguments never do.
 */
const RULES: readonly ErrorRule[] = [
  // moto reports an expired handle as InvalidParameterValue naming the receipt handle.
  [/receipt ?handle.*(invalid|expired)|ReceiptHandle is invalid/i, fatal('NotFound', LEASE_LOST)],
  ...names(
    ['ReceiptHandleIsInvalid', 'InvalidReceiptHandle', 'MessageNotInflight'],
    fatal('NotFound', LEASE_LOST),
  ),
  ...names(['QueueDoesNotExist', 'NonExistentQueue'], fatal('NotFound')),
  ['NotFound', fatal('NotFound')],
  ['NotFoundException', fatal('NotFound')],
  ...names(
    ['QueueDeletedRecently'],
    retryable(
      'Unavailable',
      'the queue was deleted less than 60 s ago; SQS refuses to create it again until then',
    ),
  ),
  ...names(['QueueNameExists', 'QueueAlreadyExists'], fatal('AlreadyExists')),
  ...names(
    ['OverLimit', 'RequestThrottled', 'PurgeQueueInProgress', 'KmsThrottled'],
    retryable('Unavailable'),
  ),
  ['ThrottlingException', retryable('Unavailable')],
  ['Throttling', retryable('Unavailable')],
  ['ThrottledException', retryable('Unavailable')],
  // Before the TimeoutError row: the SDK names every ECONNRESET "TimeoutError", a hang-up included.
  [notHttp, fatal('Config', NOT_HTTP)],
  [hungUp, retryable('Unavailable', HUNG_UP)],
  ['ServiceUnavailable', retryable('Unavailable')],
  ['InternalError', retryable('Unavailable')],
  ['InternalFailure', retryable('Unavailable')],
  ['InternalErrorException', retryable('Unavailable')],
  // The SDK also names a reset or broken pipe TimeoutError: those are the network's (core's rows).
  [(error) => error.name === 'TimeoutError' && !isResetOrPipe(error), retryable('Timeout')],
  ['RequestTimeout', retryable('Timeout')],
  ['RequestTimeoutException', retryable('Timeout')],
  ['AccessDenied', fatal('PermissionDenied')],
  ['AccessDeniedException', fatal('PermissionDenied')],
  ['AuthorizationError', fatal('PermissionDenied')],
  ...names(
    [
      'KmsAccessDenied',
      'KMSAccessDenied',
      'KmsDisabled',
      'KMSDisabled',
      'KmsInvalidKeyUsage',
      'KmsInvalidState',
      'KmsNotFound',
      'KMSNotFound',
    ],
    fatal('PermissionDenied'),
  ),
  ['InvalidClientTokenId', fatal('Unauthenticated')],
  ['UnrecognizedClientException', fatal('Unauthenticated')],
  ['SignatureDoesNotMatch', fatal('Unauthenticated')],
  ['IncompleteSignature', fatal('Unauthenticated')],
  ['ExpiredToken', fatal('Unauthenticated')],
  ['ExpiredTokenException', fatal('Unauthenticated')],
  ['MissingAuthenticationToken', fatal('Unauthenticated')],
  ['CredentialsProviderError', fatal('Unauthenticated')],
  ...names(['BatchRequestTooLong'], fatal('MessageTooLarge')),
  ...names(['UnsupportedOperation'], fatal('Unsupported')),
  ...names(
    [
      'InvalidMessageContents',
      'InvalidAttributeName',
      'InvalidAttributeValue',
      'BatchEntryIdsNotDistinct',
      'EmptyBatchRequest',
      'TooManyEntriesInBatchRequest',
      'InvalidBatchEntryId',
      'InvalidIdFormat',
    ],
    fatal('InvalidArgument'),
  ),
  ['InvalidParameterValue', fatal('InvalidArgument')],
  ['InvalidParameterValueException', fatal('InvalidArgument')],
  ['InvalidParameter', fatal('InvalidArgument')],
  ['InvalidParameterException', fatal('InvalidArgument')],
  ['ValidationError', fatal('InvalidArgument')],
  ['ValidationException', fatal('InvalidArgument')],
  // A server error page (an emulator's or a proxy's 5xx) is an outage, not a wrong endpoint.
  [(error) => statusOf(error) >= 500, retryable('Unavailable')],
  // An HTTP answer that is not an AWS one: another service listens at the endpoint.
  [notAnAwsReply, fatal('Config', WRONG_PROTOCOL)],
];

/** One row per spelling: the plain name and the `AWS.SimpleQueueService.`-prefixed one. */
function names(list: readonly string[], classification: ErrorClassification): ErrorRule[] {
  return list.flatMap((name) => [
    [name, classification] as const,
    [`AWS.SimpleQueueService.${name}`, classification] as const,
  ]);
}

/** The HTTP status of the reply an SDK error came from, 0 when there was none. */
function statusOf(error: NativeError): number {
  const carrier = error as {
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
  };
  return carrier.$metadata?.httpStatusCode ?? carrier.$response?.statusCode ?? 0;
}

/**
 * Node's HTTP parser refused the reply (`HPE_*` codes, "Parse Error: Expected HTTP/"): bytes came
 * back, and they are not HTTP.
 */
function notHttp(error: NativeError): boolean {
  return (
    (typeof error.code === 'string' && error.code.startsWith('HPE_')) ||
    /^Parse Error: Expected HTTP\//.test(String(error.message))
  );
}

/** Node's "socket hang up": the connection closed before any reply (see {@link HUNG_UP}). */
function hungUp(error: NativeError): boolean {
  return error.code === 'ECONNRESET' && String(error.message) === 'socket hang up';
}

function isResetOrPipe(error: NativeError): boolean {
  return error.code === 'ECONNRESET' || error.code === 'EPIPE';
}

/** The SDK got an HTTP reply it could not read as an AWS error or result. */
function notAnAwsReply(error: NativeError): boolean {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const text = String(error.message);
  if (
    /Deserialization error|Unexpected token|is not valid JSON|char '.*' is not expected/i.test(text)
  )
    return true;
  return (
    metadata?.httpStatusCode !== undefined &&
    (error.name === 'Unknown' || error.name === 'UnknownError') &&
    (error as { $response?: unknown }).$response !== undefined
  );
}

/** The AWS error code: the SDK's `Code` (query-compatible spelling) or its name. */
function codeOf(error: NativeError): unknown {
  const code = (error as { Code?: unknown }).Code;
  return typeof code === 'string' ? code : error.code;
}

const classifyTable = classifyWith(RULES, { codeOf });

/** Classifies an AWS SDK, SQS/SNS or socket error; `undefined` when nothing in the table matches. */
export function classifyError(error: unknown): ErrorClassification | undefined {
  const byCode = classifyTable(error);
  if (byCode !== undefined) return byCode;
  // A name the table doesn't know, with the prefix SQS puts on its query-protocol codes.
  if (error instanceof Error) {
    const name = (error as { Code?: unknown }).Code ?? error.name;
    if (typeof name === 'string' && name.startsWith('AWS.SimpleQueueService.')) {
      return classifyTable(Object.assign(new Error(error.message), { name: name.slice(23) }));
    }
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== undefined && status >= 500) return retryable('Unavailable');
  }
  return undefined;
}

/** A field every AWS answer to this call has; its absence means the endpoint is not SQS/SNS. */
export function answered<T>(value: T | undefined, driver: string): T {
  if (value === undefined || value === null || value === '')
    throw new OmnibusError('Config', WRONG_PROTOCOL, { driver, retryable: false });
  return value;
}
