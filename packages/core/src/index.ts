export { connect, ADAPTER_PACKAGES } from './connect.js';
export {
  OmnibusError,
  InvalidArgumentError,
  MessageTooLargeError,
  ConfigError,
  UnsupportedError,
  ClosedError,
  redact,
  toOmnibusError,
  type OmnibusErrorOptions,
} from './errors.js';
export { PORTABLE_RULES, RESERVED_ATTRIBUTE_PREFIXES } from './rules.js';
export { CONSUMER_DEFAULTS } from './consumer.js';
export { JSON_CONTENT_TYPE, BYTES_CONTENT_TYPE } from './codec.js';
export type * from './types.js';
export type { Capabilities, ErrorCode, DriverV1, Support } from './driver.js';
