/**
 * `@omnibus/redis`: Omnibus on Redis Streams. A topic is a stream, a subscription a consumer group
 * on it, a DLQ a stream of its own. See the README for the mapping, delivery semantics and limits.
 *
 * @packageDocumentation
 */
import { redis } from './redis-driver.js';

export { classifyRedisError } from './classify-error.js';
export type { RedisNativeMessage } from './fields.js';
export { FIELD } from './fields.js';
export { fromUrl } from './from-url.js';
export type { RedisOptions } from './redis-driver.js';
export { REDIS_CAPABILITIES, redis } from './redis-driver.js';
export type { SubscriptionKeys, TopicKeys } from './topology.js';
export { subscriptionKeys, topicKeys } from './topology.js';

export default redis;
