// The generic scenarios (latency) for the memory adapter, beside its own in adapters/memory/bench.
import { latencyScenario } from './latency.ts';
import { memoryTarget } from './memory-target.ts';
import type { BenchScenario } from './scenario.ts';

export const scenarios: BenchScenario[] = [latencyScenario(memoryTarget)];
