// Starts a RabbitMQ node of the tests' own for fault cases, so no test ever touches the shared broker's connections.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect as amqpConnect } from 'amqplib';

const run = promisify(execFile);

/**
 * A RabbitMQ node started by {@link startPrivateRabbitMQ}: its own ports, node name, data and log
 * directories. Same shape as `@omnibus/test-brokers`' `PrivateRabbitMQ`, which replaces this file
 * once it lands.
 */
export interface PrivateRabbitMQ {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Erlang node name (`omnibus-<hex>@localhost`); the only name any control command uses. */
  readonly nodeName: string;
  /** `rabbitmqctl close_all_connections` on this node only. */
  closeConnections(): Promise<void>;
  /** `stop_app` then `start_app`, resolving once AMQP answers again. */
  restart(): Promise<void>;
  /** Shuts this node down and deletes its directory. */
  stop(): Promise<void>;
}

/** Whether `rabbitmq-server` and `rabbitmqctl` can be run here. */
export async function canStartPrivateRabbitMQ(): Promise<boolean> {
  try {
    await run('rabbitmqctl', ['version'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

async function chownToRabbitmq(dir: string): Promise<void> {
  const { stdout } = await run('id', ['-u', 'rabbitmq']).catch(() => ({ stdout: '' }));
  const { stdout: group } = await run('id', ['-g', 'rabbitmq']).catch(() => ({ stdout: '' }));
  if (stdout.trim() === '') return;
  const uid = Number(stdout.trim());
  const gid = Number(group.trim());
  await chown(dir, uid, gid);
  await chown(join(dir, 'rabbitmq.conf'), uid, gid);
  await chown(join(dir, 'enabled_plugins'), uid, gid);
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts a detached RabbitMQ node on free ports, as INFRA.md "Private brokers" describes, and
 * resolves once it accepts AMQP connections (about 5 s after `await_startup`).
 * @param options.consumerTimeoutMs the node's `consumer_timeout` (ms); RabbitMQ's default when absent
 */
export async function startPrivateRabbitMQ(
  options: { consumerTimeoutMs?: number } = {},
): Promise<PrivateRabbitMQ> {
  const dir = await mkdtemp(join(tmpdir(), 'omnibus-rabbitmq-'));
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `omnibus-${randomBytes(4).toString('hex')}@localhost`;
  const config = [
    `listeners.tcp.local = 127.0.0.1:${port}`,
    'loopback_users.guest = true',
    ...(options.consumerTimeoutMs === undefined
      ? []
      : [`consumer_timeout = ${options.consumerTimeoutMs}`]),
  ];
  await writeFile(join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  // Run as root, rabbitmq-server switches to the rabbitmq user, which must own the node's directory.
  if (process.getuid?.() === 0) await chownToRabbitmq(dir);
  const env = {
    ...process.env,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const ctl = async (...args: string[]) =>
    (await run('rabbitmqctl', ['-n', nodeName, ...args], { timeout: 60_000 })).stdout;
  const waitForAmqp = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const connection = await amqpConnect(url);
        await connection.close();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        // Polling a port that opens when the node is ready: there is no event to wait on.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await ctl('shutdown').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('rabbitmq-server', ['-detached'], { env, timeout: 60_000 });
    // `-detached` returns before the node registers with epmd; await_startup fails fast until then.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await ctl('await_startup', '--timeout', '60');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await waitForAmqp(60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    nodeName,
    async closeConnections() {
      await ctl('close_all_connections', 'omnibus test: connection cut');
    },
    async restart() {
      await ctl('stop_app');
      await ctl('start_app');
      await waitForAmqp(60_000);
    },
    stop,
  };
}
