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

function missingReason(kind: PrivateBrokerKind): string {
  return `${EXECUTABLES[kind]} is not installed, so no private ${kind} can be started for fault tests (${INSTALL_HINTS[kind]})`;
}

/**
 * `undefined` when a private broker of this kind can be started here; otherwise the reason, for
 * `it.skipIf(reason)` / `describe.skipIf`. Under `OMNIBUS_REQUIRE_BROKERS=1` (CI) it throws that
 * reason instead, so a run can't pass by skipping its fault tests.
 */
export function privateBrokerUnavailable(kind: PrivateBrokerKind): string | undefined {
  if (findExecutable(EXECUTABLES[kind]) !== undefined) return undefined;
  const reason = missingReason(kind);
  if (process.env.OMNIBUS_REQUIRE_BROKERS === '1') {
    throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
  }
  return reason;
}

/** The path of the broker's server executable; throws, saying how to install it, when missing. */
export function requireExecutable(kind: PrivateBrokerKind): string {
  const path = findExecutable(EXECUTABLES[kind]);
  if (path === undefined) throw new Error(missingReason(kind));
  return path;
}
