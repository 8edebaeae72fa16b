/** connect(): a Bus from a broker URL (loading the adapter for its scheme) or from a driver built in code. */
import { loadAdapter } from './adapter-loader.js';
import { parseBrokerUrl } from './broker-url.js';
import { BusImpl } from './bus.js';
import type { DriverV2 } from './driver.js';
import { ConfigError, OmnibusError } from './errors.js';
import { redact } from './redact.js';
import { loadTracing } from './trace.js';
import type { Bus, ConnectOptions } from './types.js';

export { ADAPTER_PACKAGES } from './broker-url.js';

/**
 * Connects to a broker. `target` is a URL (`redis://…`, `memory://`, see the adapter table), a
 * driver built in code (`redis({ client })`), or nothing: then `OMNIBUS_URL`, else `memory://`.
 * A malformed URL is a `ConfigError` before any adapter is loaded; the adapter package for a URL's
 * scheme is loaded on demand.
 */
export async function connect(
  target?: string | URL | DriverV2,
  options: ConnectOptions = {},
): Promise<Bus> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('connect options must be an object');
  const tracing = await loadTracing();
  if (typeof target === 'object' && !(target instanceof URL)) {
    return new BusImpl(target, options.prefix ?? '', tracing);
  }
  const fromEnvironment = target === undefined && Boolean(process.env.OMNIBUS_URL);
  const text = target === undefined ? process.env.OMNIBUS_URL || 'memory://' : String(target);
  const { url, packageName, prefix } = parseBrokerUrl(
    text,
    fromEnvironment ? 'OMNIBUS_URL' : 'broker URL',
  );
  const adapter = await loadAdapter(packageName, url.protocol);
  let driver: DriverV2;
  try {
    driver = await adapter.fromUrl(url);
  } catch (error) {
    if (OmnibusError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${packageName} could not connect to ${redact(url.href)}: ${message}`, {
      cause: error,
    });
  }
  return new BusImpl(driver, options.prefix ?? prefix ?? '', tracing);
}
