// The one table from gRPC status codes (and the auth library's errors) to Omnibus error codes.
import { classifyWith, type ErrorRule, type NativeError } from '@omnibus/core';
import type { ErrorClassification } from '@omnibus/core/driver';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC status code of an error from the Pub/Sub client, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const isGrpc = (code: number, message?: RegExp) => (error: NativeError) =>
  grpcCode(error) === code && (message === undefined || message.test(error.message));

/**
 * Rows in order, first match wins; Node's network rows follow (core's `NETWORK_ERROR_RULES`).
 * Retryable as Google's own client retries them (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
 * RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN for publish and pull), plus CANCELLED (a call cut short).
 */
const RULES: readonly ErrorRule[] = [
  // gRPC over a port that answers in another protocol (Redis, HTTP/1.1): the HTTP/2 handshake fails.
  [
    isGrpc(GRPC.UNAVAILABLE, /Protocol error/),
    {
      code: 'Config',
      retryable: false,
      message:
        'the Pub/Sub endpoint does not speak gRPC (HTTP/2 "Protocol error"): check the apiEndpoint or PUBSUB_EMULATOR_HOST host and port',
    },
  ],
  [
    /Could not load the default credentials|Unable to detect a Project Id|invalid_grant/,
    { code: 'Unauthenticated', retryable: false },
  ],
  // A call made while (or after) the driver closed its clients.
  [/client has already been closed/, { code: 'Closed', retryable: false }],
  [GRPC.UNAVAILABLE, { code: 'Unavailable', retryable: true }],
  [GRPC.DEADLINE_EXCEEDED, { code: 'Timeout', retryable: true }],
  [GRPC.CANCELLED, { code: 'Unavailable', retryable: true }],
  [GRPC.ABORTED, { code: 'Unavailable', retryable: true }],
  [GRPC.RESOURCE_EXHAUSTED, { code: 'Unavailable', retryable: true }],
  [GRPC.INTERNAL, { code: 'Internal', retryable: true }],
  [GRPC.UNKNOWN, { code: 'Internal', retryable: true }],
  [GRPC.DATA_LOSS, { code: 'Internal', retryable: false }],
  [GRPC.NOT_FOUND, { code: 'NotFound', retryable: false }],
  [GRPC.ALREADY_EXISTS, { code: 'AlreadyExists', retryable: false }],
  [GRPC.PERMISSION_DENIED, { code: 'PermissionDenied', retryable: false }],
  [GRPC.UNAUTHENTICATED, { code: 'Unauthenticated', retryable: false }],
  // A message over the service's size limit is refused with INVALID_ARGUMENT naming the size.
  [isGrpc(GRPC.INVALID_ARGUMENT, /too large|size/i), { code: 'MessageTooLarge', retryable: false }],
  [GRPC.INVALID_ARGUMENT, { code: 'InvalidArgument', retryable: false }],
  [GRPC.OUT_OF_RANGE, { code: 'InvalidArgument', retryable: false }],
  // Ordering keys on a topic in another region, exactly-once acks of an expired lease.
  [GRPC.FAILED_PRECONDITION, { code: 'InvalidArgument', retryable: false }],
  [GRPC.UNIMPLEMENTED, { code: 'Unsupported', retryable: false }],
];

const classify = classifyWith(RULES);

/** Maps an error of the Pub/Sub client onto an Omnibus code; `undefined` for one the table doesn't know. */
export function classifyError(error: unknown): ErrorClassification | undefined {
  return classify(error);
}
