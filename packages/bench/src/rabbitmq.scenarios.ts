// The generic scenarios (latency, backlog memory) and the amqp-connection-manager peer for the RabbitMQ adapter, beside its own in adapters/rabbitmq/bench.
import { backlogScenario } from './backlog.ts';
import { latencyScenario } from './latency.ts';
import { rabbitmqPeerScenario } from './rabbitmq-peer.ts';
import { AMQP_URL, rabbitmqTarget } from './rabbitmq-target.ts';
import { reachable } from './reachable.ts';
import type { BenchModule, BenchScenario } from './scenario.ts';

export const available: BenchModule['available'] = () => {
  const url = new URL(AMQP_URL);
  return reachable(url.hostname, Number(url.port || 5672));
};

export const scenarios: BenchScenario[] = [
  latencyScenario(rabbitmqTarget),
  backlogScenario(rabbitmqTarget),
  rabbitmqPeerScenario(rabbitmqTarget),
];
