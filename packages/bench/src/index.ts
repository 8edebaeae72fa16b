// What adapters' scenario files import from @omnibus/bench: the contract types, measuring and reporting helpers, the generic scenarios.
export { type BacklogOptions, backlogScenario } from './backlog.ts';
export type { BrokerTarget, OmnibusRun, RawHandler, RawQueue } from './broker-target.ts';
export { discoverAdapters, loadBenchModule, repositoryRoot } from './discover.ts';
export { type BenchBody, jsonBodies } from './json-bodies.ts';
export { type LatencyOptions, latencyScenario } from './latency.ts';
export { measure, peakRssMiB } from './measure.ts';
export { reachable } from './reachable.ts';
export {
  BENCH_LINE_PREFIX,
  benchLine,
  callsPer1000,
  callsPer1000ByOperation,
  formatCalls,
  formatRate,
  formatTable,
  type ScenarioResult,
  targetsMet,
} from './report.ts';
export { RingBuffer } from './ring-buffer.ts';
export type {
  BenchModule,
  BenchScenario,
  BenchSide,
  BenchTargets,
  LatencySummary,
  Measurement,
  RunContext,
} from './scenario.ts';
export { type BatchSender, sendInBatches } from './send-in-batches.ts';
export { median, percentile, ratio, throughput } from './statistics.ts';
