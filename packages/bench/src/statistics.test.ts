import { describe, expect, it } from 'vitest';
import { jsonBodies } from './json-bodies.ts';
import { formatTable, type ScenarioResult, targetsMet } from './report.ts';
import { RingBuffer } from './ring-buffer.ts';
import { median, percentile, ratio, throughput } from './statistics.ts';

describe('statistics', () => {
  it('takes the median of three runs, whatever their order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 1000, 11])).toBe(11);
  });

  it('interpolates percentiles and refuses an empty list', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('computes throughput and the Omnibus/baseline ratio', () => {
    expect(throughput(200_000, 250)).toBe(800_000);
    expect(ratio(600_000, 1_200_000)).toBe(0.5);
    expect(ratio(1, 0)).toBeUndefined();
  });
});

describe('jsonBodies', () => {
  it('builds bodies whose JSON is exactly the asked size', () => {
    const bodies = jsonBodies(1001, 100);
    for (const body of [bodies[0]!, bodies[9]!, bodies[1000]!]) {
      expect(Buffer.byteLength(JSON.stringify(body))).toBe(100);
    }
  });
});

describe('RingBuffer', () => {
  it('is first in, first out across growth and wrap-around', () => {
    const queue = new RingBuffer<number>(2);
    const seen: number[] = [];
    for (let value = 0; value < 10; value++) {
      queue.push(value);
      if (value % 3 === 0) seen.push(queue.shift()!);
    }
    while (queue.length > 0) seen.push(queue.shift()!);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.shift()).toBeUndefined();
  });
});

describe('report', () => {
  it('says whether targets are met and prints an aligned table', () => {
    expect(targetsMet(undefined, 1, 1)).toBeUndefined();
    expect(targetsMet({ msgPerSec: 100, ratio: 0.5 }, 150, 0.6)).toBe(true);
    expect(targetsMet({ msgPerSec: 100, ratio: 0.5 }, 150, 0.4)).toBe(false);
    const result: ScenarioResult = {
      scenario: 'memory/example',
      adapter: 'memory',
      omnibusLabel: 'omnibus',
      baselineLabel: 'baseline',
      n: 1000,
      runs: 3,
      omnibusMsgPerSec: 500,
      baselineMsgPerSec: 1000,
      ratio: 0.5,
      peakRssMiB: 50,
      baselinePeakRssMiB: 40,
      omnibusRunsMsgPerSec: [500, 500, 500],
      baselineRunsMsgPerSec: [1000, 1000, 1000],
      targets: undefined,
      targetsMet: undefined,
      node: 'v24.0.0',
    };
    const lines = formatTable([result]).split('\n');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(lines[2]).toContain('0.500');
  });
});
