// One test file's session on a shared broker: a skip when it is unreachable, a bus and CLI runs on the file's prefix, and what the file created deleted after it.
import { type Bus, connect } from '@omnibus/core';
import { afterAll, beforeAll, type TestContext } from 'vitest';
import {
  brokerUnavailable,
  type CliResult,
  type RunningCli,
  type RunOptions,
  runCli,
  startCli,
} from './run-cli.js';

/** What a file's session needs besides the broker's URL and the prefix. */
export interface BrokerSessionOptions {
  /**
   * Topic → the subscriptions of it that the file's tests create (`[]` for a topic alone): after the
   * file, each subscription is deleted, then the topic.
   */
  readonly created: Readonly<Record<string, readonly string[]>>;
  /** What to check is listening, where `url` has no port of its own (an HTTP endpoint). @default url */
  readonly reachableAt?: string;
  /**
   * Environment of every CLI run, set on this process too before its bus connects (credentials,
   * an emulator's host).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Runs once the bus is connected, before the file's tests (declare, send, dead-letter). */
  readonly setUp?: (bus: Bus) => Promise<void>;
}

/** The session of one test file; made in a `describe` body, whose hooks it registers. */
export interface BrokerSession {
  readonly url: string;
  readonly prefix: string;
  /** `--url <url> --prefix <prefix>`: what every CLI run of the file starts with. */
  readonly global: readonly string[];
  /** The file's own bus on the prefix; throws outside a test the broker is there for. */
  readonly bus: Bus;
  /** Skips the calling test, naming why, when the broker is unreachable (vitest's skip throws). */
  requireBroker(context: TestContext): void;
  /** Runs the CLI with the session's flags and environment to its end; `input` goes to stdin. */
  cli(args: readonly string[], input?: string | Uint8Array): Promise<CliResult>;
  /** Starts the CLI with the session's flags and environment (a tail, a held stdin). */
  start(args: readonly string[], options?: RunOptions): RunningCli;
}

/**
 * Registers the file's `beforeAll` (is the broker there? then connect on `prefix`, then `setUp`)
 * and `afterAll` (delete `created`, close), and returns the session its tests use.
 */
export function brokerSession(
  url: string,
  prefix: string,
  options: BrokerSessionOptions,
): BrokerSession {
  const env = options.env ?? {};
  const global = ['--url', url, '--prefix', prefix] as const;
  let unavailable: string | undefined;
  let bus: Bus | undefined;

  beforeAll(async () => {
    unavailable = await brokerUnavailable(options.reachableAt ?? url);
    if (unavailable !== undefined) return;
    Object.assign(process.env, env);
    bus = await connect(url, { prefix });
    await options.setUp?.(bus);
  });
  afterAll(async () => {
    if (bus === undefined) return;
    for (const [topic, subscriptions] of Object.entries(options.created)) {
      for (const subscription of subscriptions) await bus.deleteSubscription(topic, subscription);
      await bus.deleteTopic(topic);
    }
    await bus.close();
  });

  return {
    url,
    prefix,
    global,
    get bus(): Bus {
      if (bus === undefined)
        throw new Error(`no bus: ${unavailable ?? 'the session has not connected yet'}`);
      return bus;
    },
    requireBroker(context) {
      if (unavailable !== undefined) context.skip(unavailable);
    },
    cli(args, input) {
      return runCli([...global, ...args], input === undefined ? { env } : { env, input });
    },
    start(args, runOptions = {}) {
      return startCli([...global, ...args], { ...runOptions, env: { ...env, ...runOptions.env } });
    },
  };
}
