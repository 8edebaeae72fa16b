/**
 * The `p`-th percentile (0–100) of `values`, interpolating linearly between the closest ranks.
 * Throws on an empty list: a benchmark with no runs has no answer, not a zero.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower]!;
  const high = sorted[upper]!;
  return low + (high - low) * (rank - lower);
}

/** The median: the middle run of three, which ignores one outlier either way. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Messages per second of a timed section. */
export function throughput(messages: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return Number.POSITIVE_INFINITY;
  return (messages * 1000) / elapsedMs;
}

/** Omnibus over baseline, rounded to 3 decimals; `undefined` when the baseline did nothing. */
export function ratio(omnibus: number, baseline: number): number | undefined {
  if (!(baseline > 0) || !Number.isFinite(baseline)) return undefined;
  return Math.round((omnibus / baseline) * 1000) / 1000;
}
