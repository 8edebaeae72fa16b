import type { DriverV1 } from '@omnibus/core/driver';
import { rabbitmq } from './rabbitmq.js';

export { classifyError } from './classify-error.js';
export { HEADER } from './message-mapping.js';
export { type RabbitMQNative, type RabbitMQOptions, rabbitmq } from './rabbitmq.js';

/**
 * Builds the driver for `connect('amqp://user:pass@host:port[/vhost]')` (or `amqps://`). Core has
 * already taken its own query parameters (`prefix`) off the URL; amqplib's (`heartbeat`,
 * `frameMax`, `channelMax`, `locale`) stay.
 */
export function fromUrl(url: URL): DriverV1 {
  return rabbitmq({ url });
}

export default rabbitmq;
