import { BusImpl } from './bus.js';
import type { AdapterModule, DriverV1 } from './driver.js';
import { ConfigError, OmnibusError, redact } from './errors.js';
import { loadTracing } from './trace.js';
import type { Bus, ConnectOptions } from './types.js';

/** URL scheme → the adapter package that serves it. */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = {
  'memory:': '@omnibus/memory',
  'redis:': '@omnibus/redis',
  'rediss:': '@omnibus/redis',
  'amqp:': '@omnibus/rabbitmq',
  'amqps:': '@omnibus/rabbitmq',
  'sqs:': '@omnibus/sqs',
  'gcppubsub:': '@omnibus/gcp-pubsub',
};

/**
 * Connects to a broker. `target` is a URL (`redis://…`, `memory://`, see the adapter table), a
 * driver built in code (`redis({ client })`), or nothing: then `OMNIBUS_URL`, else `memory://`.
 * The adapter package for a URL's scheme is loaded on demand.
 */
export async function connect(
  target?: string | URL | DriverV1,
  options: ConnectOptions = {},
): Promise<Bus> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('connect options must be an object');
  const tracing = await loadTracing();
  if (typeof target === 'object' && !(target instanceof URL)) {
    return new BusImpl(target, options.prefix ?? '', tracing);
  }
  const text = target === undefined ? process.env.OMNIBUS_URL || 'memory://' : String(target);
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new ConfigError(`"${redact(text)}" is not a valid broker URL`, { cause: error });
  }
  const packageName = ADAPTER_PACKAGES[url.protocol];
  if (packageName === undefined) {
    throw new ConfigError(
      `no Omnibus adapter serves "${url.protocol}" URLs; known schemes: ${Object.keys(ADAPTER_PACKAGES).join(' ')}`,
    );
  }
  const prefix = options.prefix ?? url.searchParams.get('prefix') ?? '';
  url.searchParams.delete('prefix');
  const adapter = await loadAdapter(packageName, url.protocol);
  let driver: DriverV1;
  try {
    driver = await adapter.fromUrl(url);
  } catch (error) {
    if (OmnibusError.isInstance(error)) throw error;
    throw new ConfigError(
      `${packageName} could not connect to ${redact(url.href)}: ${(error as Error)?.message ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  return new BusImpl(driver, prefix, tracing);
}

async function loadAdapter(packageName: string, scheme: string): Promise<AdapterModule> {
  let module: Partial<AdapterModule> & { default?: Partial<AdapterModule> };
  try {
    module = await import(packageName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(packageName)
    ) {
      throw new ConfigError(
        `"${scheme}" URLs need the ${packageName} package: npm install ${packageName}`,
        { cause: error },
      );
    }
    throw new ConfigError(`${packageName} failed to load: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const fromUrl = module.fromUrl ?? module.default?.fromUrl;
  if (typeof fromUrl !== 'function')
    throw new ConfigError(`${packageName} does not export fromUrl(url); is it an Omnibus adapter?`);
  return { fromUrl };
}
