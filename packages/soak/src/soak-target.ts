// What each adapter needs for a soak: a URL on a private broker, and the faults that broker can take.
import { randomBytes } from 'node:crypto';
import {
  type PrivateRabbitMQ,
  type PrivateRedis,
  privateBrokerUnavailable,
  startPrivateRabbitMQ,
  startPrivateRedis,
} from '@omnibus/test-brokers';
import { Redis } from 'ioredis';
import type { ScenarioName } from './scenario-name.ts';

/** A broker ready for one scenario, with the faults it supports. */
export interface SoakEnvironment {
  /** What `connect()` gets. */
  readonly url: string;
  /** Drops every client connection at once (Redis CLIENT KILL, RabbitMQ close_all_connections). */
  killConnections?(): Promise<void>;
  /** Restarts the broker; resolves once it accepts clients again. */
  restartBroker?(): Promise<void>;
  /** Whether the broker keeps what it acknowledged across `restartBroker`. */
  readonly persistent: boolean;
  /** Ends what `prepare` started for this scenario only. */
  release(): Promise<void>;
}

/** One adapter's way to get a broker for each scenario. */
export interface SoakTarget {
  readonly adapter: string;
  /** A reason the whole adapter can't run here (its broker is not installed), else undefined. */
  unavailable(): string | undefined;
  /** A reason this scenario does not apply to the adapter, else undefined. */
  notApplicable(scenario: ScenarioName): string | undefined;
  prepare(scenario: ScenarioName): Promise<SoakEnvironment>;
  /** Ends what is shared across scenarios. */
  close(): Promise<void>;
}

const memory: SoakTarget = {
  adapter: 'memory',
  unavailable: () => undefined,
  notApplicable(scenario) {
    switch (scenario) {
      case 'consumer-sigkill':
        return 'the broker lives in the process: a killed process takes its broker with it';
      case 'connection-kills':
        return 'in-process: there is no connection to kill';
      case 'restart-persistent':
      case 'restart-not-persistent':
        return 'in-process: there is no broker process to restart';
      default:
        return undefined;
    }
  },
  async prepare() {
    return {
      url: `memory://soak-${randomBytes(4).toString('hex')}`,
      persistent: false,
      release: async () => undefined,
    };
  },
  close: async () => undefined,
};

/** Kills every normal client connection on a private server: its own admin client is spared. */
async function clientKill(broker: PrivateRedis): Promise<void> {
  const admin = new Redis(broker.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  admin.on('error', () => undefined);
  try {
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  } finally {
    admin.disconnect();
  }
}

const redis: SoakTarget = {
  adapter: 'redis',
  unavailable: () => privateBrokerUnavailable('redis'),
  notApplicable: () => undefined,
  async prepare(scenario) {
    // A server per scenario: it starts in ~0.1 s, and a restart can't disturb another scenario.
    const persistent = scenario === 'restart-persistent';
    const broker = await startPrivateRedis({ persistent });
    return {
      // Retention trimming every 200 ms instead of every 5 s, so that within a run of seconds the
      // trim passes meet the faults (a restart that left a stream without its group) many times.
      url: `${broker.url}?trimIntervalMs=200`,
      persistent,
      killConnections: () => clientKill(broker),
      restartBroker: () => broker.restart(),
      release: () => broker.stop(),
    };
  },
  close: async () => undefined,
};

function rabbitmqTarget(): SoakTarget {
  // One node for all scenarios (each uses its own topic): a node takes 5-10 s to start.
  let node: Promise<PrivateRabbitMQ> | undefined;
  return {
    adapter: 'rabbitmq',
    unavailable: () => privateBrokerUnavailable('rabbitmq'),
    notApplicable(scenario) {
      if (scenario === 'restart-not-persistent') {
        return 'Omnibus puts every subscription on a durable quorum queue, which always persists: there is no non-persistent setup to restart';
      }
      return undefined;
    },
    async prepare() {
      node ??= startPrivateRabbitMQ();
      const broker = await node;
      return {
        url: broker.url,
        persistent: true,
        killConnections: () => broker.closeConnections(),
        restartBroker: () => broker.restart(),
        release: async () => undefined,
      };
    },
    async close() {
      if (node === undefined) return;
      const broker = await node.catch(() => undefined);
      node = undefined;
      await broker?.stop();
    },
  };
}

/** The adapters the soak knows, by the name used on the command line. */
export function soakTargets(): Record<string, SoakTarget> {
  return { memory, redis, rabbitmq: rabbitmqTarget() };
}
