// The package's entry point: the factory, `fromUrl` for `connect('gcppubsub://PROJECT')`, and the public helpers.
import { ConfigError, checkUrlParameters, readOperationTimeout } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';
import { gcpPubSub } from './gcp-pubsub.js';

export { CAPABILITIES } from './capabilities.js';
export { classifyError } from './classify-error.js';
export {
  type GcpPubSubDriver,
  type GcpPubSubNative,
  type GcpPubSubOptions,
  gcpPubSub,
} from './gcp-pubsub.js';
export { NATIVE_DEAD_LETTER } from './message-mapping.js';
export { SERVICE_LIMITS } from './service-limits.js';

/**
 * Builds the driver for `connect('gcppubsub://PROJECT')`. Core has already taken its own query
 * parameters (`prefix`) off the URL; read here: `operationTimeoutMs` (ms, default 15000),
 * `apiEndpoint` (`host:port`, default `PUBSUB_EMULATOR_HOST` or Google's) and `pullTimeoutMs`.
 * Credentials come from Application Default Credentials, never from the URL.
 * @throws `Config` for a user or password in the URL (without echoing them), without a project, for a bad `operationTimeoutMs`, or any other query parameter
 */
export function fromUrl(url: URL): DriverV2 {
  if (url.username !== '' || url.password !== '') {
    // Never echoed: the user part may be a token as much as the password is.
    throw new ConfigError(
      'gcppubsub URLs carry no credentials (take the user and password out of the URL); credentials come from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the metadata server)',
    );
  }
  checkUrlParameters(url, {
    adapter: 'gcp-pubsub',
    known: ['operationTimeoutMs', 'apiEndpoint', 'pullTimeoutMs'],
  });
  const operationTimeoutMs = readOperationTimeout(url);
  const projectId = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, ''));
  const apiEndpoint = url.searchParams.get('apiEndpoint') ?? undefined;
  const pull = url.searchParams.get('pullTimeoutMs');
  return gcpPubSub({
    ...(projectId === '' ? {} : { projectId }),
    ...(apiEndpoint === undefined ? {} : { apiEndpoint }),
    ...(pull === null ? {} : { pullTimeoutMs: Number(pull) }),
    operationTimeoutMs,
  });
}

export default gcpPubSub;
