// Says why a private broker can't be started here: a reason to skip with, or an error in CI.
import { findExecutable } from './find-executable.js';

/** The brokers this package can start privately. */
export type PrivateBrokerKind = 'redis' | 'rabbitmq';

const EXECUTABLES: Record<PrivateBrokerKind, string> = {
  redis: 'redis-server',
  rabbitmq: 'rabbitmq-server',
};

const INSTALL_HINTS: Record<PrivateBrokerKind, string> = {
  redis: 'apt-get install redis-server',
  rabbitmq: 'apt-get install rabbitmq-server',
};

/**
 * `undefined` when a private broker of this kind can be started here; otherwise the reason, for
 * `it.skipIf(reason)` / `describe.skipIf`. Under `OMNIBUS_REQUIRE_BROKERS=1` (CI) it throws that
 * reason instead, so a run can't pass by skipping its fault tests.
 */
export function privateBrokerUnavailable(kind: PrivateBrokerKind): string | undefined {
  const executable = EXECUTABLES[kind];
  if (findExecutable(executable) !== undefined) return undefined;
  const reason = `${executable} is not installed, so no private ${kind} can be started for fault tests (${INSTALL_HINTS[kind]})`;
  if (process.env.OMNIBUS_REQUIRE_BROKERS === '1') {
    throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
  }
  return reason;
}

/** The reason a private broker can't start, as an error for `startPrivate…` to throw. */
export function requireExecutable(kind: PrivateBrokerKind): string {
  const path = findExecutable(EXECUTABLES[kind]);
  if (path !== undefined) return path;
  throw new Error(
    privateBrokerUnavailable(kind) ?? `${EXECUTABLES[kind]} is not installed`, // unreachable fallback
  );
}
