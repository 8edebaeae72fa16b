// The package's entry point: the factory, `fromUrl` for `connect('sqs://REGION?…')`, and the public helpers.
import { ConfigError, checkUrlParameters, readOperationTimeout } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';
import { type SqsOptions, sqs } from './sqs.js';

export type { SqsMode } from './capabilities.js';
export { classifyError } from './classify-error.js';
export { METADATA_ATTRIBUTE } from './message-mapping.js';
export { type SqsCredentials, type SqsNative, type SqsOptions, sqs } from './sqs.js';

/**
 * Builds the driver for `connect('sqs://REGION?endpoint=…&mode=queue&fifo=true')`. The host is the
 * region; the query parameters are `endpoint` (an emulator's URL), `mode` (`fanout` or `queue`),
 * `fifo` (`true`/`false`), `waitTimeSeconds`, `pollers` and `operationTimeoutMs`; core has already
 * taken `prefix`. Credentials come from the SDK's default provider chain, never from the URL.
 * @throws `Config` for a user or password in the URL (without echoing them), an unknown parameter
 * or a bad value
 */
export function fromUrl(url: URL): DriverV2 {
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      'sqs URLs carry no credentials (take the user and password out of the URL) and use the AWS SDK default provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, a role) or the credentials option of sqs()',
    );
  }
  checkUrlParameters(url, {
    adapter: 'sqs',
    known: ['endpoint', 'mode', 'fifo', 'waitTimeSeconds', 'pollers', 'operationTimeoutMs'],
  });
  const options: SqsOptions = { operationTimeoutMs: readOperationTimeout(url) };
  if (url.hostname !== '') options.region = url.hostname;
  const endpoint = url.searchParams.get('endpoint');
  if (endpoint !== null) options.endpoint = endpoint;
  const mode = url.searchParams.get('mode');
  if (mode !== null) {
    if (mode !== 'fanout' && mode !== 'queue')
      throw new ConfigError(
        `sqs URL parameter mode must be "fanout" or "queue", got ${JSON.stringify(mode.slice(0, 20))}`,
      );
    options.mode = mode;
  }
  const fifo = url.searchParams.get('fifo');
  if (fifo !== null) {
    if (fifo !== 'true' && fifo !== 'false')
      throw new ConfigError(
        `sqs URL parameter fifo must be "true" or "false", got ${JSON.stringify(fifo.slice(0, 20))}`,
      );
    options.fifo = fifo === 'true';
  }
  for (const name of ['waitTimeSeconds', 'pollers'] as const) {
    const text = url.searchParams.get(name);
    if (text !== null) {
      if (!/^\d+$/.test(text))
        throw new ConfigError(
          `sqs URL parameter ${name} must be a whole number, got ${JSON.stringify(text.slice(0, 20))}`,
        );
      options[name] = Number(text);
    }
  }
  return sqs(options);
}

export default sqs;
