import type { BenchTargets, LatencySummary, Measurement } from './scenario.ts';

/** What the harness concludes about one scenario: medians of the runs, and the ratio. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly adapter: string;
  readonly omnibusLabel: string;
  readonly baselineLabel: string;
  /** Messages per measured run. */
  readonly n: number;
  /** Measured runs per side. */
  readonly runs: number;
  /** Median over the runs. */
  readonly omnibusMsgPerSec: number;
  readonly baselineMsgPerSec: number;
  /** Omnibus median over baseline median; `undefined` when the baseline did nothing. */
  readonly ratio: number | undefined;
  /** Highest peak RSS over the Omnibus runs, in MiB. */
  readonly peakRssMiB: number;
  readonly baselinePeakRssMiB: number;
  /** Every run's throughput, in run order. */
  readonly omnibusRunsMsgPerSec: readonly number[];
  readonly baselineRunsMsgPerSec: readonly number[];
  /**
   * This process's CPU time per message in the timed section, in µs (median over the runs;
   * {@link Measurement.cpuMs}). The broker's process is not in it.
   */
  readonly omnibusCpuUsPerMsg?: number;
  readonly baselineCpuUsPerMsg?: number;
  /**
   * The broker process's CPU time per message in the timed section, in µs (median over the runs;
   * {@link Measurement.brokerCpuMs}), for sides that name the broker's port.
   */
  readonly omnibusBrokerCpuUsPerMsg?: number;
  readonly baselineBrokerCpuUsPerMsg?: number;
  /**
   * Broker API calls per 1,000 messages (median over the runs), for sides that count them
   * ({@link Measurement.apiCalls}); absent otherwise.
   */
  readonly omnibusCallsPer1000?: number;
  readonly baselineCallsPer1000?: number;
  /** The same per operation, over all runs of the side (e.g. `{ ReceiveMessage: 104.2, … }`). */
  readonly omnibusCallsPer1000ByOperation?: Readonly<Record<string, number>>;
  readonly baselineCallsPer1000ByOperation?: Readonly<Record<string, number>>;
  /** Send → handler latency (median p50 and p99 over the runs, highest max), latency scenarios only. */
  readonly omnibusLatencyMs?: LatencySummary;
  readonly baselineLatencyMs?: LatencySummary;
  readonly targets: BenchTargets | undefined;
  readonly targetsMet: boolean | undefined;
  readonly node: string;
}

/** Prefix of the machine-readable line: `npm run bench | grep '^BENCH ' | cut -c7-` gives JSON lines. */
export const BENCH_LINE_PREFIX = 'BENCH ';

/** One line of JSON for a scenario, prefixed so it can be picked out of the human output. */
export function benchLine(result: ScenarioResult): string {
  return BENCH_LINE_PREFIX + JSON.stringify(result);
}

/** Whether a result reaches its targets; `undefined` when it has none. */
export function targetsMet(
  targets: BenchTargets | undefined,
  msgPerSec: number,
  ratio: number | undefined,
  callsPer1000?: number,
): boolean | undefined {
  if (targets === undefined) return undefined;
  const throughputMet = targets.msgPerSec === undefined || msgPerSec >= targets.msgPerSec;
  const ratioMet = targets.ratio === undefined || (ratio !== undefined && ratio >= targets.ratio);
  const callsMet =
    targets.callsPer1000 === undefined ||
    (callsPer1000 !== undefined && callsPer1000 <= targets.callsPer1000);
  return throughputMet && ratioMet && callsMet;
}

/** All API calls of a measurement per 1,000 of its messages; `undefined` if it counted none. */
export function callsPer1000(measurement: Measurement): number | undefined {
  if (measurement.apiCalls === undefined || measurement.messages === 0) return undefined;
  let total = 0;
  for (const count of Object.values(measurement.apiCalls)) total += count;
  return (total * 1000) / measurement.messages;
}

/** Calls per 1,000 messages per operation, over several measurements together (one decimal). */
export function callsPer1000ByOperation(
  measurements: readonly Measurement[],
): Record<string, number> | undefined {
  const totals = new Map<string, number>();
  let messages = 0;
  for (const measurement of measurements) {
    if (measurement.apiCalls === undefined) return undefined;
    messages += measurement.messages;
    for (const [operation, count] of Object.entries(measurement.apiCalls)) {
      totals.set(operation, (totals.get(operation) ?? 0) + count);
    }
  }
  if (messages === 0) return undefined;
  return Object.fromEntries(
    [...totals]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([operation, count]) => [operation, Math.round((count * 10_000) / messages) / 10]),
  );
}

/** `{ ReceiveMessage: 104, SendMessageBatch: 100 }` → `ReceiveMessage 104 · SendMessageBatch 100`. */
export function formatCalls(byOperation: Readonly<Record<string, number>>): string {
  return Object.entries(byOperation)
    .map(([operation, count]) => `${operation} ${count}`)
    .join(' · ');
}

/** `1234567.8` → `1,234,568`. */
export function formatRate(msgPerSec: number): string {
  return Math.round(msgPerSec).toLocaleString('en-US');
}

function describeTargets(result: ScenarioResult): string {
  const { targets } = result;
  if (targets === undefined) return '';
  const parts: string[] = [];
  if (targets.msgPerSec !== undefined) parts.push(`≥ ${formatRate(targets.msgPerSec)} msg/s`);
  if (targets.ratio !== undefined) parts.push(`ratio ≥ ${targets.ratio}`);
  if (targets.callsPer1000 !== undefined) parts.push(`≤ ${targets.callsPer1000} calls/1k`);
  if (targets.latencyP99MarginMs !== undefined) {
    parts.push(`p99 ≤ baseline + ${targets.latencyP99MarginMs} ms`);
  }
  if (targets.peakRssRatio !== undefined)
    parts.push(`peak RSS ≤ ${targets.peakRssRatio}× baseline`);
  return `${result.targetsMet ? 'met' : 'missed'} (${parts.join(', ')})`;
}

function formatCallsCell(calls: number | undefined): string {
  return calls === undefined ? '–' : calls.toFixed(1);
}

/**
 * A plain-text table of results, columns aligned, for the terminal and BENCHMARKS.md. The two
 * calls-per-1,000-messages columns appear only when some result counted API calls.
 */
export function formatTable(results: readonly ScenarioResult[]): string {
  const withCalls = results.some(
    (result) =>
      result.omnibusCallsPer1000 !== undefined || result.baselineCallsPer1000 !== undefined,
  );
  const header = [
    'scenario',
    'n',
    'omnibus msg/s',
    'baseline msg/s',
    'ratio',
    'omnibus peak RSS',
    'baseline peak RSS',
    ...(withCalls ? ['omnibus calls/1k', 'baseline calls/1k'] : []),
    'targets',
  ];
  const rows = results.map((result) => [
    result.scenario,
    result.n.toLocaleString('en-US'),
    formatRate(result.omnibusMsgPerSec),
    formatRate(result.baselineMsgPerSec),
    result.ratio === undefined ? '–' : result.ratio.toFixed(3),
    `${result.peakRssMiB.toFixed(1)} MiB`,
    `${result.baselinePeakRssMiB.toFixed(1)} MiB`,
    ...(withCalls
      ? [formatCallsCell(result.omnibusCallsPer1000), formatCallsCell(result.baselineCallsPer1000)]
      : []),
    describeTargets(result),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  // Every column but the first (scenario) and the last (targets) is a number.
  const numeric = new Set(header.slice(1, -1).map((_, index) => index + 1));
  const line = (cells: readonly string[]) =>
    `| ${cells
      .map((cell, column) =>
        numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join(' | ')} |`;
  const rule = `|${widths
    .map((width, column) =>
      numeric.has(column) ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2),
    )
    .join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
