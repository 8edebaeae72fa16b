// What every RabbitMQ test file shares: which brokers it may use, unique names, clean-up by prefix, waiting on conditions.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type Bus, connect } from '@omnibus/core';
import { freePorts, type PrivateRabbitMQ, privateBrokerUnavailable } from '@omnibus/test-brokers';
import { connect as amqpConnect } from 'amqplib';
import { fromUrl, type RabbitMQOptions, rabbitmq } from '../index.js';

export { type PrivateRabbitMQ, startPrivateRabbitMQ } from '@omnibus/test-brokers';

const run = promisify(execFile);

/**
 * The shared broker (RabbitMQ on 127.0.0.1:5672, or AMQP_URL). Other runs use it at the same time:
 * tests only declare, use and delete objects under their own prefixes on it, and never restart,
 * cut or close its connections. Fault cases run on a {@link startPrivateRabbitMQ} node.
 */
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const REQUIRE = process.env.OMNIBUS_REQUIRE_BROKERS === '1';

async function probe(url: string): Promise<true | string> {
  try {
    const connection = await amqpConnect(url);
    await connection.close();
    return true;
  } catch (error) {
    return `RabbitMQ is not reachable at ${new URL(url).host}: ${(error as Error).message}`;
  }
}

/** `true`, or why the shared broker can't be used (then a test file skips, or fails under OMNIBUS_REQUIRE_BROKERS=1). */
export const sharedBroker = await probe(AMQP_URL);
if (sharedBroker !== true && REQUIRE)
  throw new Error(`${sharedBroker} (OMNIBUS_REQUIRE_BROKERS=1)`);

/**
 * `true`, or why no private node can be started here (rabbitmq-server is needed); throws instead
 * under OMNIBUS_REQUIRE_BROKERS=1.
 */
export const privateNodes: true | string = privateBrokerUnavailable('rabbitmq') ?? true;

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** Prefixes used on the shared broker, deleted by {@link deleteSharedTestObjects}. */
const sharedPrefixes = new Set<string>();

/** A prefix unique to this run and test (`rt<hex>-`). */
export function testPrefix(): string {
  const prefix = `rt${randomBytes(4).toString('hex')}-`;
  sharedPrefixes.add(prefix);
  return prefix;
}

/** Marks a prefix used on the shared broker, so {@link deleteSharedTestObjects} removes its objects. */
export function registerSharedPrefix(prefix: string): void {
  sharedPrefixes.add(prefix);
}

/** A bus through `fromUrl` from this source tree (`connect(url)` would load the package's built dist). */
export async function connectBus(
  prefix: string,
  url: string = AMQP_URL,
  options: Omit<RabbitMQOptions, 'url'> = {},
): Promise<Bus> {
  if (url === AMQP_URL) sharedPrefixes.add(prefix);
  const driver =
    Object.keys(options).length === 0 ? fromUrl(new URL(url)) : rabbitmq({ ...options, url });
  return connect(driver, { prefix });
}

/**
 * Deletes every queue and exchange on the shared broker whose name starts with one of this run's
 * prefixes. Listing is read-only (`rabbitmqctl list_queues`); deletion goes through AMQP, by name.
 */
export async function deleteSharedTestObjects(): Promise<void> {
  if (sharedPrefixes.size === 0 || sharedBroker !== true) return;
  const ours = (name: string) => [...sharedPrefixes].some((prefix) => name.startsWith(prefix));
  let names: { queues: string[]; exchanges: string[] };
  try {
    const list = async (what: 'list_queues' | 'list_exchanges') =>
      (
        await run('rabbitmqctl', [what, '--quiet', '--no-table-headers', 'name'], {
          timeout: 60_000,
        })
      ).stdout
        .split('\n')
        .map((line) => line.trim())
        .filter(ours);
    const [queues, exchanges] = await Promise.all([list('list_queues'), list('list_exchanges')]);
    names = { queues, exchanges };
  } catch {
    console.warn(
      `rabbitmqctl is not available: queues and exchanges of prefixes ${[...sharedPrefixes].join(', ')} were left on the broker`,
    );
    return;
  }
  const connection = await amqpConnect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of names.queues) await channel.deleteQueue(queue);
    for (const exchange of names.exchanges) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

/**
 * `rabbitmqctl -n <node>` for a private node, for faults its interface doesn't offer (an outage
 * held open with stop_app, the node's OS pid to freeze it). The node keeps its Erlang cookie in its
 * own directory (found by the port in its config), so the CLI runs with that directory as HOME,
 * from the real script rather than Debian's wrapper, which would switch to the shared node's user.
 */
export async function privateNodeControl(
  node: PrivateRabbitMQ,
): Promise<(...args: string[]) => Promise<string>> {
  const { stdout } = await run('which', ['rabbitmqctl']);
  const found = stdout.trim();
  const real = realpathSync(found);
  const ctl =
    basename(real) === 'rabbitmq-script-wrapper' ? join(dirname(real), 'rabbitmqctl') : found;
  let home: string | undefined;
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith('omnibus-rabbitmq-')) continue;
    const config = await readFile(join(tmpdir(), entry, 'rabbitmq.conf'), 'utf8').catch(() => '');
    if (config.includes(`127.0.0.1:${node.port}\n`)) home = join(tmpdir(), entry);
  }
  if (home === undefined) throw new Error(`no directory found for private node ${node.nodeName}`);
  const env = { ...process.env, HOME: home };
  return async (...args: string[]) =>
    (await run(ctl, ['-n', node.nodeName, ...args], { env, cwd: home, timeout: 60_000 })).stdout;
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The rejection of `promise`, or `undefined` if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}
