import type { Bus } from '@omnibus/core';

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
}

/** Tuning of one conformance run. */
export interface ConformanceOptions {
  /** Max ms to wait for any condition before failing. @default 15000 */
  timeoutMs?: number;
  /** Lease used in lease tests. @default max(1000, capabilities.ackDeadline.minMs) */
  ackDeadlineMs?: number;
}
