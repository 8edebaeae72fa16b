// The package's entry point: the factory, `fromUrl` for `connect('amqp://…')`, and the public helpers.
import { OmnibusError } from '@omnibus/core';
import type { DriverV1 } from '@omnibus/core/driver';
import { rabbitmq } from './rabbitmq.js';

export { classifyError } from './classify-error.js';
export { HEADER } from './message-mapping.js';
export { type RabbitMQNative, type RabbitMQOptions, rabbitmq } from './rabbitmq.js';

/**
 * Builds the driver for `connect('amqp://user:pass@host:port[/vhost]')` (or `amqps://`). Core has
 * already taken its own query parameters (`prefix`) off the URL; `operationTimeoutMs` (ms, default
 * 15000) is taken here, and amqplib's (`heartbeat`, `frameMax`, `channelMax`, `locale`) stay.
 * @throws `Config` when `operationTimeoutMs` is not a positive number
 */
export function fromUrl(url: URL): DriverV1 {
  const rest = new URL(url.href);
  const raw = rest.searchParams.get('operationTimeoutMs');
  rest.searchParams.delete('operationTimeoutMs');
  if (raw === null) return rabbitmq({ url: rest });
  const operationTimeoutMs = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(operationTimeoutMs) || operationTimeoutMs <= 0) {
    throw new OmnibusError(
      'Config',
      `the URL parameter operationTimeoutMs must be a positive number of milliseconds, got ${JSON.stringify(raw.slice(0, 32))}`,
      { driver: 'rabbitmq' },
    );
  }
  return rabbitmq({ url: rest, operationTimeoutMs });
}

export default rabbitmq;
