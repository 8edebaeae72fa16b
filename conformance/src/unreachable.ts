// A broker that can't be reached, or that speaks another protocol, fails every call fast and typed.
import type { Bus, OmnibusError } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { type ErrorCode, expectOmnibusError, type Suite, uniquePrefix, within } from './helpers.js';

/** The bound the cases set, and the slack allowed above it for scheduling and teardown. */
const OPERATION_TIMEOUT_MS = 2_000;
const SLACK_MS = 1_500;

type Connector = (options: { prefix: string; operationTimeoutMs: number }) => Promise<Bus>;

/**
 * Every call against an unreachable broker fails with `Unavailable` or `Timeout` within
 * `operationTimeoutMs` (core's retries included), and an endpoint of another protocol fails with
 * `Config`, naming the mismatch: never a hang, never `Internal`.
 */
export function registerUnreachableTests(suite: Suite): void {
  describe('unreachable', () => {
    suite.test(
      'an unreachable broker fails each call with Unavailable or Timeout within operationTimeoutMs',
      async (t) => {
        t.requiresHook(t.harness.connectUnreachable !== undefined, 'connectUnreachable');
        await expectBoundedFailure(t.harness.connectUnreachable!.bind(t.harness), [
          'Unavailable',
          'Timeout',
        ]);
      },
    );

    suite.test(
      'an endpoint speaking another protocol fails each call with Config, not retryable, within operationTimeoutMs',
      async (t) => {
        t.requiresHook(t.harness.connectWrongProtocol !== undefined, 'connectWrongProtocol');
        const failures = await expectBoundedFailure(
          t.harness.connectWrongProtocol!.bind(t.harness),
          ['Config'],
        );
        for (const failure of failures) expect(failure.retryable, failure.message).toBe(false);
      },
    );
  });
}

/**
 * Connects through `connector`; `connect` itself may be what fails. Otherwise each of send,
 * consumer.ready(), stats and a DLQ count must fail on its own within the bound.
 */
async function expectBoundedFailure(
  connector: Connector,
  codes: readonly ErrorCode[],
): Promise<OmnibusError[]> {
  const bound = OPERATION_TIMEOUT_MS + SLACK_MS;
  const failsInTime = async (
    what: string,
    action: () => unknown,
    started = Date.now(),
  ): Promise<OmnibusError> => {
    const failure = await expectOmnibusError(action, codes, what);
    const took = Date.now() - started;
    expect(took, `${what} took ${took} ms, over operationTimeoutMs + slack`).toBeLessThan(bound);
    return failure;
  };
  const started = Date.now();
  let bus: Bus;
  try {
    bus = await connector({ prefix: uniquePrefix(), operationTimeoutMs: OPERATION_TIMEOUT_MS });
  } catch (error) {
    // An adapter that connects eagerly fails here; one that connects lazily fails the calls below.
    return [await failsInTime('connect', () => Promise.reject(error), started)];
  }
  const open = bus;
  try {
    const consumer = open.consumer('unreachable', 'probe');
    return [
      await failsInTime('send', () => open.producer('unreachable').send('hello')),
      await failsInTime('consumer.ready()', () => consumer.ready()),
      await failsInTime('consumer.stats()', () => consumer.stats()),
      await failsInTime('deadLetters().count()', () =>
        open.deadLetters('unreachable', 'probe').count(),
      ),
    ];
  } finally {
    await within(open.close(), bound, 'bus.close()').catch(() => undefined);
  }
}
