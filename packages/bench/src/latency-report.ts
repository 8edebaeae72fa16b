// How the harness reports latency and backlog memory: per-run text, medians over runs, targets, a table.
import type { ScenarioResult } from './report.ts';
import type { BenchTargets, LatencySummary, Measurement } from './scenario.ts';
import { median } from './statistics.ts';

/** `, latency p50 0.41 · p99 1.20 · max 3.05 ms` for a run that measured latency, else `''`. */
export function describeRunLatency(measurement: Measurement): string {
  const latency = measurement.latencyMs;
  if (latency === undefined) return '';
  return `, latency p50 ${latency.p50.toFixed(2)} · p99 ${latency.p99.toFixed(2)} · max ${latency.max.toFixed(2)} ms`;
}

/** Median p50 and p99 over the runs, and the highest max; `undefined` unless every run measured it. */
export function latencyOfRuns(runs: readonly Measurement[]): LatencySummary | undefined {
  const summaries = runs.map((run) => run.latencyMs);
  if (summaries.length === 0 || !summaries.every((summary) => summary !== undefined)) {
    return undefined;
  }
  return {
    p50: median(summaries.map((summary) => summary.p50)),
    p99: median(summaries.map((summary) => summary.p99)),
    max: Math.max(...summaries.map((summary) => summary.max)),
  };
}

/** The latency and peak-RSS targets: `undefined` when the scenario sets neither. */
export function latencyAndMemoryTargetsMet(
  targets: BenchTargets | undefined,
  result: Pick<
    ScenarioResult,
    'omnibusLatencyMs' | 'baselineLatencyMs' | 'peakRssMiB' | 'baselinePeakRssMiB'
  >,
): boolean | undefined {
  if (targets?.latencyP99MarginMs === undefined && targets?.peakRssRatio === undefined) {
    return undefined;
  }
  const { omnibusLatencyMs: omnibus, baselineLatencyMs: baseline } = result;
  const latencyMet =
    targets.latencyP99MarginMs === undefined ||
    (omnibus !== undefined &&
      baseline !== undefined &&
      omnibus.p99 <= baseline.p99 + targets.latencyP99MarginMs);
  const memoryMet =
    targets.peakRssRatio === undefined ||
    result.peakRssMiB <= result.baselinePeakRssMiB * targets.peakRssRatio;
  return latencyMet && memoryMet;
}

/** One line for the end of a scenario: latency of both sides and the p99 difference, or `''`. */
export function describeLatencyResult(result: ScenarioResult): string {
  const { omnibusLatencyMs: omnibus, baselineLatencyMs: baseline } = result;
  if (omnibus === undefined || baseline === undefined) return '';
  const difference = omnibus.p99 - baseline.p99;
  return (
    `  = latency p50/p99/max ms: omnibus ${omnibus.p50.toFixed(2)} / ${omnibus.p99.toFixed(2)} / ` +
    `${omnibus.max.toFixed(2)} · baseline ${baseline.p50.toFixed(2)} / ${baseline.p99.toFixed(2)} / ` +
    `${baseline.max.toFixed(2)} · p99 ${difference >= 0 ? '+' : ''}${difference.toFixed(2)} ms`
  );
}

/** A table of the latency scenarios (same layout as the throughput table), or `''` if none. */
export function formatLatencyTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((result) => {
    const { omnibusLatencyMs: omnibus, baselineLatencyMs: baseline } = result;
    if (omnibus === undefined || baseline === undefined) return [];
    const margin = result.targets?.latencyP99MarginMs;
    const met = latencyAndMemoryTargetsMet(result.targets, result);
    return [
      [
        result.scenario,
        result.n.toLocaleString('en-US'),
        `${omnibus.p50.toFixed(2)} / ${omnibus.p99.toFixed(2)} / ${omnibus.max.toFixed(2)}`,
        `${baseline.p50.toFixed(2)} / ${baseline.p99.toFixed(2)} / ${baseline.max.toFixed(2)}`,
        `${omnibus.p99 - baseline.p99 >= 0 ? '+' : ''}${(omnibus.p99 - baseline.p99).toFixed(2)}`,
        margin === undefined ? '' : `${met ? 'met' : 'missed'} (p99 ≤ baseline + ${margin} ms)`,
      ],
    ];
  });
  if (rows.length === 0) return '';
  const header = [
    'scenario',
    'n',
    'omnibus p50 / p99 / max ms',
    'baseline p50 / p99 / max ms',
    'p99 Δ ms',
    'targets',
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const numeric = new Set([1, 2, 3, 4]);
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
