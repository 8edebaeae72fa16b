import type { Bus } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';

/** What an adapter's test file hands to {@link runConformanceTests}. */
export interface ConformanceHarness {
  /** Adapter name shown in the report. */
  name: string;
  /**
   * Opens a new bus; all calls within one test pass the same unique prefix, so a test's names never
   * collide with another test's or another run's. Implemented as e.g. `connect(url, { prefix })` or
   * `connect(driver, { prefix })`. Buses opened within one test must reach the same broker: several
   * tests use two buses as two competing processes.
   */
  connect(options: { prefix: string }): Promise<Bus>;
  /** Restarts (or disrupts) the broker; when present, the broker-restart case runs, else it is skipped naming the missing hook. */
  restartBroker?(): Promise<void>;
  /**
   * Connects (or builds a bus that will connect) to 127.0.0.1 at a port where nothing listens, with
   * the adapter's `operationTimeoutMs` set to `options.operationTimeoutMs`. When present, the
   * bounded-failure case runs, else it is skipped naming the missing hook (memory has no network).
   */
  connectUnreachable?(options: { prefix: string; operationTimeoutMs: number }): Promise<Bus>;
  /**
   * Connects to an endpoint that answers in another protocol (a Redis URL at RabbitMQ's port, an
   * AMQP URL at Redis's), with `operationTimeoutMs` set. When present, the wrong-protocol case runs.
   */
  connectWrongProtocol?(options: { prefix: string; operationTimeoutMs: number }): Promise<Bus>;
  /**
   * Builds a fresh driver reaching the same broker as {@link connect} (e.g. `redis({ url })`), for
   * the `contract` tests that check the driver contract's own rules on the driver itself, or
   * through a core bus over a spying wrapper of it. Names the suite passes to it carry `prefix`.
   * The suite closes the driver after the test. When absent, those tests are skipped naming it.
   */
  driver?(options: { prefix: string }): Promise<DriverV2>;
  /**
   * Tests the broker under test can't serve, by exact test name, each with the reason (an
   * emulator bug the real broker doesn't have). Each is skipped with `known gap: <reason>` in the
   * report, never silently; keep the list empty wherever the real broker runs.
   */
  knownGaps?: Readonly<Record<string, string>>;
}

/** Tuning of one conformance run. */
export interface ConformanceOptions {
  /** Max ms to wait for any condition before failing. @default 15000 */
  timeoutMs?: number;
  /** Lease used in lease tests, in ms. @default max(10000, capabilities.ackDeadline.minMs) */
  ackDeadlineMs?: number;
}
