/** The one backoff formula (exponential, capped, equal jitter): adapters use it for reconnect loops. */
export { type Backoff, retryDelay } from './backoff.js';
export { brokerName } from './broker-name.js';
export {
  type ClassifyOptions,
  classifyWith,
  type ErrorMatch,
  type ErrorRule,
  type NativeError,
  NETWORK_ERROR_RULES,
} from './classify-error.js';
export { BYTES_CONTENT_TYPE, JSON_CONTENT_TYPE } from './codec.js';
export { ADAPTER_PACKAGES, connect } from './connect.js';
export { CONSUMER_DEFAULTS } from './consumer.js';
/** The dead-letter rule and its reasons, for adapters whose broker-side scripts must say the same. */
export {
  afterExplicitNack,
  afterHandlerFailure,
  type DeadLetterSettings,
  type DeadLetterVerdict,
  expiredBeforeDelivery,
} from './dead-letter-policy.js';
/** The redrive-loop guard's default `maxRedrives`. */
export { DEFAULT_MAX_REDRIVES } from './dead-letter-selection.js';
export type {
  Capabilities,
  DriverTestHooks,
  DriverV2,
  ErrorCode,
  StatSupport,
  SubscriptionRef,
  Support,
} from './driver.js';
export {
  ClosedError,
  ConfigError,
  InvalidArgumentError,
  MessageTooLargeError,
  OmnibusError,
  type OmnibusErrorOptions,
  redact,
  subscriptionNotFound,
  toOmnibusError,
  UnsupportedError,
} from './errors.js';
export { DEFAULT_OPERATION_TIMEOUT_MS, readOperationTimeout } from './operation-timeout.js';
export { PORTABLE_RULES, RESERVED_ATTRIBUTE_PREFIXES } from './rules.js';
/** A promise raced against a timer: the one way core and adapters bound a single call. */
export { withTimeLimit } from './time-limit.js';
export type * from './types.js';
export { checkUrlParameters, type UrlParameterRules } from './url-parameters.js';
export { WIRE, type WireName } from './wire.js';
