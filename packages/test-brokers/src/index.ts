// Private brokers for fault tests: each call starts one that nobody else uses, and stops only it.

export { freePorts } from './free-ports.js';
export { listening } from './listening.js';
export {
  type PrivateBrokerKind,
  privateBrokerUnavailable,
} from './private-broker-unavailable.js';
export {
  type PrivateRabbitMQ,
  type PrivateRabbitMQOptions,
  startPrivateRabbitMQ,
} from './private-rabbitmq.js';
export { type PrivateRedis, type PrivateRedisOptions, startPrivateRedis } from './private-redis.js';
export { waitUntil } from './wait-until.js';
