// The generic scenarios (latency, backlog memory) for the Pub/Sub adapter, beside its own in adapters/gcp-pubsub/bench.
import { backlogScenario } from './backlog.ts';
import { gcpPubSubTarget } from './gcp-pubsub-target.ts';
import { latencyScenario } from './latency.ts';
import { reachable } from './reachable.ts';
import type { BenchModule, BenchScenario } from './scenario.ts';

export const available: BenchModule['available'] = () => {
  const [host = '127.0.0.1', port = '8085'] = (
    process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085'
  ).split(':');
  return reachable(host, Number(port));
};

export const scenarios: BenchScenario[] = [
  latencyScenario(gcpPubSubTarget),
  backlogScenario(gcpPubSubTarget),
];
