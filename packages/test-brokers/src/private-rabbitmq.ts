// Starts a RabbitMQ node of its own (own name, ports, config, data and cookie) for fault tests.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { forgetDirectory, forgetPid, killOnExit, removeOnExit } from './exit-cleanup.js';
import { freePorts } from './free-ports.js';
import { requireExecutable } from './private-broker-unavailable.js';
import { waitUntil } from './wait-until.js';

const run = promisify(execFile);

/** A RabbitMQ node that belongs to one test run: nobody else knows its port or its name. */
export interface PrivateRabbitMQ {
  /** `amqp://guest:guest@127.0.0.1:PORT` (guest may log in: it is loopback-only). */
  readonly url: string;
  readonly port: number;
  /** The Erlang node name, `omnibus-test-…@localhost`, for `rabbitmqctl -n`. */
  readonly nodeName: string;
  /** `rabbitmqctl close_all_connections` on this node only: every client is dropped at once. */
  closeConnections(): Promise<void>;
  /**
   * `stop_app` then `start_app`: RabbitMQ restarts inside the running Erlang node (every connection
   * drops; durable quorum queues and their messages survive). Resolves once AMQP connects again.
   */
  restart(): Promise<void>;
  /** Shuts the node down (by its name, else by its OS pid) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startPrivateRabbitMQ}. */
export interface PrivateRabbitMQOptions {
  /**
   * The node's `consumer_timeout`: a delivery not acked within this many ms closes its channel.
   * @default RabbitMQ's own (30 minutes)
   */
  consumerTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 90_000;
const COMMAND_TIMEOUT_MS = 60_000;

/**
 * The server and rabbitmqctl scripts to run. Debian's /usr/sbin entries are a wrapper that `su`s
 * to the rabbitmq user (whose home holds the shared node's cookie, and who can't write our temp
 * dir): run the real scripts next to the wrapper instead, as ourselves.
 */
function scripts(): { server: string; ctl: string } {
  const found = requireExecutable('rabbitmq');
  const real = realpathSync(found);
  const directory = basename(real) === 'rabbitmq-script-wrapper' ? dirname(real) : dirname(found);
  return { server: join(directory, 'rabbitmq-server'), ctl: join(directory, 'rabbitmqctl') };
}

async function amqpConnects(url: string): Promise<boolean> {
  const connection = await connect(url, { timeout: 2_000 });
  connection.on('error', () => undefined);
  await connection.close();
  return true;
}

/**
 * Starts a second RabbitMQ node on free ports (AMQP and Erlang distribution), with its own config
 * file (listener on 127.0.0.1 only, no plugins), data, logs and Erlang cookie in a temp directory,
 * and resolves once an AMQP client can connect (typically 5-10 s). Throws, with the reason, when
 * rabbitmq-server is not installed; see `privateBrokerUnavailable('rabbitmq')` to skip instead.
 */
export async function startPrivateRabbitMQ(
  options: PrivateRabbitMQOptions = {},
): Promise<PrivateRabbitMQ> {
  const { server, ctl } = scripts();
  const [port, distributionPort] = await freePorts(2);
  if (port === undefined || distributionPort === undefined) throw new Error('no free ports');
  const nodeName = `omnibus-test-${randomBytes(4).toString('hex')}@localhost`;
  const directory = await mkdtemp(join(tmpdir(), 'omnibus-rabbitmq-'));
  removeOnExit(directory);
  const url = `amqp://guest:guest@127.0.0.1:${port}`;

  const config = [
    // The machine's /etc/rabbitmq/rabbitmq.conf pins 5672: a config of our own replaces it.
    `listeners.tcp.local = 127.0.0.1:${port}`,
    'loopback_users.guest = true',
    ...(options.consumerTimeoutMs === undefined
      ? []
      : [`consumer_timeout = ${options.consumerTimeoutMs}`]),
  ];
  await writeFile(join(directory, 'rabbitmq.conf'), `${config.join('\n')}\n`);
  await writeFile(join(directory, 'enabled_plugins'), '[].\n');
  await mkdir(join(directory, 'mnesia'));
  await mkdir(join(directory, 'log'));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The node writes its Erlang cookie to $HOME and rabbitmqctl reads it there: a private cookie.
    HOME: directory,
    RABBITMQ_CONFIG_FILE: join(directory, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(directory, 'enabled_plugins'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distributionPort),
    RABBITMQ_MNESIA_BASE: join(directory, 'mnesia'),
    RABBITMQ_LOG_BASE: join(directory, 'log'),
    RABBITMQ_PID_FILE: join(directory, 'rabbitmq.pid'),
  };
  const rabbitmqctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(ctl, ['-n', nodeName, ...args], {
      env,
      cwd: directory,
      timeout: COMMAND_TIMEOUT_MS,
    });
    return stdout;
  };
  const logTail = async (): Promise<string> => {
    const log = await readFile(join(directory, 'log', `${nodeName}.log`), 'utf8').catch(() => '');
    return log.split('\n').slice(-15).join('\n');
  };

  let osPid: number | undefined;
  let stopped = false;
  // The node writes its OS pid early in its boot: known from then on, a test process that dies
  // while the node is still booting kills it on exit instead of leaving it behind.
  const learnPid = async () => {
    if (osPid !== undefined) return;
    const text = await readFile(env.RABBITMQ_PID_FILE!, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0) {
      osPid = pid;
      killOnExit(pid);
    }
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // `shutdown` waits until the node's OS process is gone; a node that never came up (or
    // doesn't answer) is ended by its pid instead.
    const shutDown = await rabbitmqctl('shutdown').then(
      () => true,
      () => false,
    );
    if (!shutDown && osPid !== undefined) {
      try {
        process.kill(osPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (osPid !== undefined) forgetPid(osPid);
    await rm(directory, { recursive: true, force: true });
    forgetDirectory(directory);
  };

  try {
    // -detached returns at once; the node boots in the background.
    await new Promise<void>((resolve, reject) => {
      const launcher = spawn(server, ['-detached'], { env, cwd: directory, stdio: 'ignore' });
      launcher.once('error', reject);
      launcher.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`rabbitmq-server -detached exited ${code}`)),
      );
    });
    // The node answers rabbitmqctl (and await_startup returns) seconds before AMQP is accepted.
    await waitUntil(
      async () => {
        await learnPid();
        return amqpConnects(url);
      },
      `the private RabbitMQ node ${nodeName} to accept AMQP on port ${port}`,
      READY_TIMEOUT_MS,
      250,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n--- node log (tail) ---\n${await logTail()}`);
    });
    await learnPid();
    if (osPid === undefined) {
      const pid = Number((await rabbitmqctl('eval', 'os:getpid().')).replaceAll(/[^0-9]/g, ''));
      if (Number.isInteger(pid) && pid > 0) {
        osPid = pid;
        killOnExit(pid);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    port,
    nodeName,
    async closeConnections() {
      await rabbitmqctl('close_all_connections', 'omnibus private broker: connections closed');
    },
    async restart() {
      await rabbitmqctl('stop_app');
      await rabbitmqctl('start_app');
      await waitUntil(
        () => amqpConnects(url),
        `${nodeName} to accept AMQP again after start_app`,
        READY_TIMEOUT_MS,
        100,
      );
    },
    stop,
  };
}
