// The time bound on one call against the broker: a call that outlives it rejects Unavailable, and its work is abandoned.
import { OmnibusError, withTimeLimit } from '@omnibus/core';

/** Share of operationTimeoutMs one driver call may take on its own, so its own error reaches the user before core's deadline. */
export const CALL_SHARE = 0.8;

/**
 * Rejects with a retryable `Unavailable` when `work` hasn't settled within `timeoutMs`, after
 * calling `onTimeout` (which abandons the work: closes its channel). A later result is dropped.
 */
export function bounded<T>(
  work: Promise<T>,
  timeoutMs: number,
  driverName: string,
  onTimeout?: () => void,
): Promise<T> {
  return withTimeLimit(work, timeoutMs, () => {
    onTimeout?.();
    return new OmnibusError(
      'Unavailable',
      `RabbitMQ did not answer within ${timeoutMs} ms (80 % of operationTimeoutMs)`,
      { retryable: true, driver: driverName },
    );
  });
}
