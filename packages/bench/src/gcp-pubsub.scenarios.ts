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

// The raw client's subscription is unordered, and Omnibus's default on Pub/Sub is an ordered one,
// which the emulator serves several times slower even for messages without a key (a 20k backlog:
// raw 9,455 msg/s unordered, 7,141 ordered): Omnibus's consumer opts out, so both do the same work.
const unordered = { ordering: false } as const;

export const scenarios: BenchScenario[] = [
  latencyScenario(gcpPubSubTarget, unordered),
  backlogScenario(gcpPubSubTarget, unordered),
];
