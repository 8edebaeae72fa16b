/**
 * What one message of the memory e2e scenario costs, measured so a busy machine barely moves it:
 * CPU time (process.cpuUsage) and heap bytes allocated (GC-profiler deltas) per message, and GC
 * pause per run, over a fixed workload in one warmed process.
 *
 *   node --expose-gc packages/bench/src/memory-cost.ts [omnibus|baseline] [messages 200000] [runs 6]
 *
 * Wall-clock ratios on a shared 2-core machine swing by ±30% with the load; these do not.
 */
import { GCProfiler } from 'node:v8';
import { scenarios } from '../../../adapters/memory/bench/scenarios.ts';

const [sideArgument = 'omnibus', messagesArgument = '200000', runsArgument = '6'] =
  process.argv.slice(2);
if (sideArgument !== 'omnibus' && sideArgument !== 'baseline')
  throw new Error('usage: memory-cost.ts [omnibus|baseline] [N] [R]');
const messages = Number(messagesArgument);
const runs = Number(runsArgument);
const side = scenarios[0]![sideArgument];
const collect = (globalThis as { gc?: () => void }).gc;

await side.run({ messages: 100_000, phase: 'warmup', runId: 'warmup' });
const cpuUs: number[] = [];
const allocatedBytes: number[] = [];
const gcPauseMs: number[] = [];
for (let run = 0; run < runs; run++) {
  collect?.();
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  const measurement = await side.run({ messages, phase: 'measured', runId: `run${run}` });
  const after = process.memoryUsage().heapUsed;
  const statistics = profiler.stop()?.statistics ?? [];
  // Allocated = what the heap grew by between collections, plus what it grew by since the last.
  let allocated = 0;
  let last = before;
  let pauseUs = 0;
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - last;
    last = gc.afterGC.heapStatistics.usedHeapSize;
    pauseUs += gc.cost;
  }
  allocated += after - last;
  cpuUs.push(((measurement.cpuMs ?? Number.NaN) * 1000) / messages);
  allocatedBytes.push(allocated / messages);
  gcPauseMs.push(pauseUs / 1000);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  JSON.stringify({
    side: sideArgument,
    messages,
    runs,
    cpuUsPerMessage: { median: median(cpuUs), min: Math.min(...cpuUs) },
    allocatedBytesPerMessage: Math.round(median(allocatedBytes)),
    gcPauseMsPerRun: Math.round(median(gcPauseMs)),
  }),
);
