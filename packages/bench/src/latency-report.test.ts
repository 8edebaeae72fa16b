// Checks the latency and backlog-memory reporting: medians over runs, the two new targets, the latency table.
import { describe, expect, it } from 'vitest';
import {
  describeLatencyResult,
  describeRunLatency,
  formatLatencyTable,
  latencyAndMemoryTargetsMet,
  latencyOfRuns,
} from './latency-report.ts';
import type { ScenarioResult } from './report.ts';

const run = (p50: number, p99: number, max: number) => ({
  messages: 10,
  elapsedMs: 10,
  latencyMs: { p50, p99, max },
});

function result(overrides: Partial<ScenarioResult>): ScenarioResult {
  return {
    scenario: 'redis/latency',
    adapter: 'redis',
    omnibusLabel: 'omnibus',
    baselineLabel: 'raw',
    n: 10_000,
    runs: 3,
    omnibusMsgPerSec: 1000,
    baselineMsgPerSec: 1000,
    ratio: 1,
    peakRssMiB: 100,
    baselinePeakRssMiB: 100,
    omnibusRunsMsgPerSec: [1000],
    baselineRunsMsgPerSec: [1000],
    targets: undefined,
    targetsMet: undefined,
    node: 'v24',
    ...overrides,
  };
}

describe('latency report', () => {
  it('takes the median p50 and p99 over the runs and the highest max', () => {
    expect(latencyOfRuns([run(1, 5, 9), run(3, 2, 30), run(2, 4, 7)])).toEqual({
      p50: 2,
      p99: 4,
      max: 30,
    });
  });

  it('has no latency unless every run measured it', () => {
    expect(latencyOfRuns([run(1, 2, 3), { messages: 1, elapsedMs: 1 }])).toBeUndefined();
    expect(latencyOfRuns([])).toBeUndefined();
    expect(describeRunLatency({ messages: 1, elapsedMs: 1 })).toBe('');
    expect(describeRunLatency(run(0.5, 1.25, 2))).toBe(
      ', latency p50 0.50 · p99 1.25 · max 2.00 ms',
    );
  });

  it('meets the p99 target within the margin and misses it beyond', () => {
    const targets = { latencyP99MarginMs: 1 };
    const baselineLatencyMs = { p50: 1, p99: 4, max: 9 };
    const within = { omnibusLatencyMs: { p50: 1, p99: 5, max: 9 }, baselineLatencyMs };
    const beyond = { omnibusLatencyMs: { p50: 1, p99: 5.01, max: 9 }, baselineLatencyMs };
    expect(latencyAndMemoryTargetsMet(targets, result(within))).toBe(true);
    expect(latencyAndMemoryTargetsMet(targets, result(beyond))).toBe(false);
    // No latency measured at all is a miss, not a pass.
    expect(latencyAndMemoryTargetsMet(targets, result({}))).toBe(false);
  });

  it('meets the peak RSS target up to the ratio, and says nothing without either target', () => {
    const targets = { peakRssRatio: 1.2 };
    expect(
      latencyAndMemoryTargetsMet(targets, result({ peakRssMiB: 120, baselinePeakRssMiB: 100 })),
    ).toBe(true);
    expect(
      latencyAndMemoryTargetsMet(targets, result({ peakRssMiB: 121, baselinePeakRssMiB: 100 })),
    ).toBe(false);
    expect(latencyAndMemoryTargetsMet({ ratio: 0.95 }, result({}))).toBeUndefined();
    expect(latencyAndMemoryTargetsMet(undefined, result({}))).toBeUndefined();
  });

  it('prints the p99 difference, and a table only for results with latency', () => {
    const measured = result({
      targets: { latencyP99MarginMs: 1 },
      omnibusLatencyMs: { p50: 0.4, p99: 1.5, max: 3 },
      baselineLatencyMs: { p50: 0.3, p99: 1, max: 2 },
    });
    expect(describeLatencyResult(measured)).toContain('p99 +0.50 ms');
    const table = formatLatencyTable([measured, result({ scenario: 'redis/e2e' })]).split('\n');
    expect(table).toHaveLength(3);
    expect(table[2]).toContain('redis/latency');
    expect(table[2]).toContain('0.40 / 1.50 / 3.00');
    expect(table[2]).toContain('met (p99 ≤ baseline + 1 ms)');
    expect(formatLatencyTable([result({})])).toBe('');
  });
});
