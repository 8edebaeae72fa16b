import type { BenchTargets, LatencySummary } from './scenario.ts';

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
): boolean | undefined {
  if (targets === undefined) return undefined;
  const throughputMet = targets.msgPerSec === undefined || msgPerSec >= targets.msgPerSec;
  const ratioMet = targets.ratio === undefined || (ratio !== undefined && ratio >= targets.ratio);
  return throughputMet && ratioMet;
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
  if (targets.latencyP99MarginMs !== undefined) {
    parts.push(`p99 ≤ baseline + ${targets.latencyP99MarginMs} ms`);
  }
  if (targets.peakRssRatio !== undefined)
    parts.push(`peak RSS ≤ ${targets.peakRssRatio}× baseline`);
  return `${result.targetsMet ? 'met' : 'missed'} (${parts.join(', ')})`;
}

/** A plain-text table of results, columns aligned, for the terminal and BENCHMARKS.md. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const header = [
    'scenario',
    'n',
    'omnibus msg/s',
    'baseline msg/s',
    'ratio',
    'omnibus peak RSS',
    'baseline peak RSS',
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
    describeTargets(result),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const numeric = new Set([1, 2, 3, 4, 5, 6]);
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
