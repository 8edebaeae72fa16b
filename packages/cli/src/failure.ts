/** Failures: the exit codes, the error for bad input, and what each OmnibusError code means to an operator. */
import { OmnibusError } from '@omnibus/core';

/** The exit codes: 0 done; 1 the operation (or any one message of it) failed; 2 bad input; 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Bad command-line input or stdin, found before any I/O: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operator aborted (a prompt answered no, Ctrl-C): nothing more was done. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
}

/** The exit code for an error a command threw. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  // A prompt answered no (or Ctrl-C at it): nothing was done, which a script must not read as done.
  if (error instanceof AbortedError) return EXIT.failed;
  // Config, InvalidArgument and Unsupported are core's verdicts on input (a URL, a name, an
  // attribute, an option the adapter's capabilities rule out), which core checks before any I/O.
  if (
    OmnibusError.isInstance(error) &&
    (error.code === 'Config' || error.code === 'InvalidArgument' || error.code === 'Unsupported')
  )
    return EXIT.usage;
  return EXIT.failed;
}

/** The one-line message for an error: `Code: message` for an OmnibusError (already redacted by core). */
export function messageOf(error: unknown): string {
  if (OmnibusError.isInstance(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * What an OmnibusError code says about the broker setup, in the words an operator searches for:
 * `doctor` prints it under a failed step.
 */
export function diagnosis(error: unknown): string {
  if (!OmnibusError.isInstance(error))
    return 'an unexpected error (not from the broker): see the message';
  // Adapters report a server answering in another protocol as Config ("did not answer in AMQP").
  if (error.code === 'Config' && /did not answer in|protocol/i.test(error.message))
    return 'wrong protocol: something answers at that host and port, but not this broker (check the scheme and the port of the URL)';
  // A server that took the connection and closed it without a word (SQS's "socket hang up"):
  // retryable, as a proxy may do that, but on every try it is usually a port of another protocol.
  if (error.code === 'Unavailable' && /socket hang up|without an answer/i.test(error.message))
    return 'hung up: something at that host and port took the connection and closed it without answering (most often a port of another protocol, e.g. Redis: check the scheme and the port of the URL; else a proxy dropping connections)';
  switch (error.code) {
    case 'Unavailable':
      return 'unreachable: nothing answered, or the connection broke (is the broker running, are host and port right, does a firewall drop it?)';
    case 'Timeout':
      return 'no answer in time: the broker is unreachable, overloaded, or the port speaks another protocol (an amqp:// URL pointed at Redis, say)';
    case 'Unauthenticated':
      return 'auth: the broker refused the credentials (check the user and password in the URL, or the cloud credentials in the environment)';
    case 'PermissionDenied':
      return 'missing permissions: the credentials work but may not do this step (creating or deleting topics and subscriptions, publishing, consuming)';
    case 'Config':
      return 'configuration: the URL or the installed packages are wrong (see the message: it names what to fix or install)';
    case 'NotFound':
      return 'not found: the topic, subscription or virtual host does not exist, or the credentials may not see it';
    case 'Unsupported':
      return 'not supported by this adapter (see its capabilities above)';
    case 'InvalidArgument':
    case 'MessageTooLarge':
      return 'the broker or core refused the input (see the message)';
    case 'AlreadyExists':
      return 'a topic or subscription of that name exists with other settings';
    case 'Closed':
      return 'the connection was closed while the step ran';
    default:
      return 'the broker failed in a way Omnibus does not classify (wrong protocol on that port? see the message)';
  }
}
