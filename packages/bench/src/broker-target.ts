// What the generic scenarios (latency, backlog) need from an adapter: how to open Omnibus on it and the raw client doing the same.
import type { Bus, DriverV2 } from '@omnibus/core';

/** A handler for raw message bytes; the raw consumer acks once it resolves. */
export type RawHandler = (body: Buffer) => void | Promise<void>;

/** The raw client's queue for one run: one topic/stream/queue named after the run. */
export interface RawQueue {
  /** Publishes the bodies in order; resolves once the broker accepted them all (confirms, replies). */
  send(bodies: readonly Buffer[]): Promise<void>;
  /**
   * Starts consuming with at most `concurrency` unsettled messages (prefetch, read count), running
   * `handler` on each and acking it once the handler resolved.
   */
  consume(concurrency: number, handler: RawHandler): Promise<void>;
  /** Stops consuming and closes the connections; `remove` also deletes what the run declared. */
  close(remove: boolean): Promise<void>;
}

/** An Omnibus bus opened for one run, with how to delete what the run created. */
export interface OmnibusRun {
  readonly bus: Bus;
  /** Closes the bus; `remove` also deletes the run's topic and subscriptions from the broker. */
  close(remove: boolean): Promise<void>;
}

/**
 * One adapter as the generic scenarios see it. `omnibus.open` and `raw.open` are called with the
 * same `runId` from several processes (the backlog's filler and its consumer), so both must
 * name everything after it and declare idempotently.
 */
export interface BrokerTarget {
  /** The adapter's folder name, the prefix of scenario names (`redis/latency`). */
  readonly adapter: string;
  /** Whether messages outlive the process: false for memory, whose queue is the process itself. */
  readonly external: boolean;
  /**
   * Where another process finds this target: the URL of the module (`import.meta.url`) and the
   * name it is exported under. The backlog scenario's filler process imports it from there.
   */
  readonly source: { readonly url: string; readonly exportName: string };
  readonly omnibus: {
    readonly label: string;
    open(runId: string): Promise<OmnibusRun>;
  };
  readonly raw: {
    readonly label: string;
    open(runId: string): Promise<RawQueue>;
  };
}

/** Imports a workspace package, with a hint when it isn't built or installed. */
export async function load<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new Error(`${specifier} could not be loaded: run \`npm install && npm run build\``, {
      cause: error,
    });
  }
}

/**
 * The shape of an adapter package as the targets use it: a factory named after the adapter. Typed
 * here rather than with `typeof import('@omnibus/<adapter>')`, since the adapters depend on this
 * package (a dependency back would be a cycle) and their types may not be built when this one is
 * type-checked.
 */
export type AdapterModule<Name extends string> = {
  readonly [key in Name]: (options: { url: string }) => DriverV2;
};
