/**
 * The contract between the harness and an adapter's benchmark file.
 *
 * Each adapter that wants benchmarks provides `adapters/<name>/bench/scenarios.ts`, plain
 * TypeScript that Node runs with type stripping (no enums, no parameter properties, relative
 * imports with their `.ts` extension), exporting {@link BenchModule.scenarios}. The harness finds
 * those files itself; nothing has to be registered.
 *
 * A scenario compares Omnibus with a baseline doing the same work on the same broker (the raw
 * client, or a bare in-process loop for memory), in the same run, so the ratio says what Omnibus
 * costs on top of the broker rather than how fast this machine is today.
 */

/** What one side of a scenario is told when it runs. */
export interface RunContext {
  /** How many messages to push end to end in this run. */
  readonly messages: number;
  /** `warmup` runs are not measured; they let the JIT and the broker settle first. */
  readonly phase: 'warmup' | 'measured';
  /**
   * Unique per run, safe in broker names (`[a-z0-9-]`): use it to name topics, queues and streams
   * so that runs never see each other's messages.
   */
  readonly runId: string;
}

/** The timed part of one run, as returned by {@link measure}. */
export interface Measurement {
  /** Messages that went end to end inside the timed section. */
  readonly messages: number;
  /** Wall time of the timed section, in milliseconds. */
  readonly elapsedMs: number;
  /**
   * CPU time this process spent in the timed section (user + system), in milliseconds, as
   * {@link measure} takes it. It leaves out the broker's own process; on a busy machine it moves
   * much less than wall time, so CPU per message is the steadier figure of what a side costs.
   */
  readonly cpuMs?: number;
  /**
   * CPU time the broker's process spent in the timed section, in milliseconds, for sides that
   * name its port (`measure`'s `brokerPort`): what the side's messages cost the broker. Other
   * processes using the same broker at the same time are in it too.
   */
  readonly brokerCpuMs?: number;
  /**
   * Broker API calls made inside the timed section, per operation (e.g. `ReceiveMessage: 104`),
   * for adapters whose cost is counted in calls (SQS). The harness reports calls per 1,000
   * messages. Absent when the side doesn't count calls.
   */
  readonly apiCalls?: Readonly<Record<string, number>>;
  /** Send → handler latency, for sides that measure it (the latency scenarios). */
  readonly latencyMs?: LatencySummary;
}

/** Percentiles of send → handler latency over one run, in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** One side of a scenario: Omnibus, or the baseline it is compared with. */
export interface BenchSide {
  /** Short description shown in the table, e.g. `omnibus memory://` or `ioredis XADD/XREADGROUP`. */
  readonly label: string;
  /**
   * Does the work once for `context.messages` messages. Set-up (connecting, creating queues) and
   * tear-down happen outside the timed section, which the side wraps in {@link measure}. Each run
   * happens in a fresh Node process, so the peak RSS the harness reports belongs to this side alone.
   */
  run(context: RunContext): Promise<Measurement>;
}

/** Figures a scenario hopes to reach. Reported as met or missed, never asserted. */
export interface BenchTargets {
  /** Omnibus throughput, messages per second. */
  readonly msgPerSec?: number;
  /** Omnibus throughput divided by the baseline's. */
  readonly ratio?: number;
  /** Most broker API calls per 1,000 messages on the Omnibus side (needs {@link Measurement.apiCalls}). */
  readonly callsPer1000?: number;
  /** Most Omnibus p99 latency above the baseline's, in ms (needs {@link Measurement.latencyMs}). */
  readonly latencyP99MarginMs?: number;
  /** Most Omnibus peak RSS as a multiple of the baseline's (the backlog scenarios). */
  readonly peakRssRatio?: number;
}

export interface BenchScenario {
  /** Unique across adapters, e.g. `memory/e2e-send-handle-ack`. */
  readonly name: string;
  /** One sentence: what goes end to end, body size, concurrency. */
  readonly description: string;
  /** Messages per measured run. `--messages` on the command line overrides it. */
  readonly messages: number;
  /** Messages of the unmeasured warm-up run in each process. @default a tenth of `messages`, at most 20,000 */
  readonly warmupMessages?: number;
  readonly omnibus: BenchSide;
  readonly baseline: BenchSide;
  readonly targets?: BenchTargets;
}

/** The shape of `adapters/<name>/bench/scenarios.ts`. */
export interface BenchModule {
  readonly scenarios: readonly BenchScenario[];
  /**
   * Whether the adapter's broker can be reached: `true`, or the reason it can't. Absent means
   * always available (memory). Without adapters named on the command line, the harness skips an
   * adapter that isn't available; named explicitly, an unavailable adapter is an error.
   */
  readonly available?: () => Promise<true | string>;
}
