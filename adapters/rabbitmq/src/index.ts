// The package's entry point: the factory, `fromUrl` for `connect('amqp://…')`, and the public helpers.
import { checkUrlParameters, readOperationTimeout } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';
import { rabbitmq } from './rabbitmq.js';

export { classifyError } from './classify-error.js';
export { HEADER } from './message-mapping.js';
export { type RabbitMQNative, type RabbitMQOptions, rabbitmq } from './rabbitmq.js';

/**
 * Builds the driver for `connect('amqp://user:pass@host:port[/vhost]')` (or `amqps://`). Core has
 * already taken its own query parameters (`prefix`) off the URL; `operationTimeoutMs` (ms, default
 * 15000) is taken here, and amqplib's (`heartbeat`, `frameMax`, `channelMax`, `locale`) stay.
 * @throws `Config` when `operationTimeoutMs` is not a whole number from 100 to 3600000, or for any
 * other query parameter (amqplib would ignore it silently)
 */
export function fromUrl(url: URL): DriverV2 {
  checkUrlParameters(url, {
    adapter: 'rabbitmq',
    known: ['operationTimeoutMs', 'heartbeat', 'frameMax', 'channelMax', 'locale'],
  });
  const operationTimeoutMs = readOperationTimeout(url);
  const rest = new URL(url.href);
  rest.searchParams.delete('operationTimeoutMs');
  return rabbitmq({ url: rest, operationTimeoutMs });
}

export default rabbitmq;
