// The generic scenarios (latency, backlog memory) for the Redis adapter, beside its own in adapters/redis/bench.
import { backlogScenario } from './backlog.ts';
import { latencyScenario } from './latency.ts';
import { reachable } from './reachable.ts';
import { redisTarget } from './redis-target.ts';
import type { BenchModule, BenchScenario } from './scenario.ts';

export const available: BenchModule['available'] = () => {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return reachable(url.hostname, Number(url.port || 6379));
};

export const scenarios: BenchScenario[] = [
  latencyScenario(redisTarget),
  backlogScenario(redisTarget),
];
