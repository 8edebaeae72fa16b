// Where the tests find the Pub/Sub emulator, and whether it answers.

const REQUIRE = process.env.OMNIBUS_REQUIRE_BROKERS === '1';

/** `host:port` of the shared emulator (`PUBSUB_EMULATOR_HOST`, else the port `.ci/brokers.sh` starts it on). */
export const EMULATOR_HOST = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';

/** Any project id works on the emulator. */
export const PROJECT_ID = 'omnibus-test';

/**
 * Why the emulator can't be used (`undefined` when it answers `Ok`). Throws instead under
 * OMNIBUS_REQUIRE_BROKERS=1: CI must not pass by skipping.
 */
export async function emulatorUnavailable(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    const response = await fetch(`http://${EMULATOR_HOST}/`, {
      signal: AbortSignal.timeout(2_000),
    });
    const text = await response.text();
    if (!text.startsWith('Ok'))
      reason = `the Pub/Sub emulator at ${EMULATOR_HOST} answered "${text.slice(0, 40)}"`;
  } catch (error) {
    reason = `the Pub/Sub emulator does not answer at ${EMULATOR_HOST} (${(error as Error).message}); start it with bash .ci/brokers.sh start`;
  }
  if (reason !== undefined && REQUIRE) throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
  return reason;
}
