// How a Lua script is defined (source and SHA1) and run (EVALSHA, falling back to EVAL).
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { watchConnection } from '../connection-watch.js';
import { COMMON_LUA } from './common-lua.js';

/*
 * The server-side half of the adapter. Every step that must not be split by a crash (move a
 * scheduled message into a stream, dead-letter, redrive, release) is one Lua script, so Redis runs
 * it atomically. All keys a script touches share one hash tag (`{topic}`), so every script also
 * runs on Redis Cluster. Each script lives in a file of its own with the typed function that
 * encodes its arguments and decodes its reply: callers never see ARGV positions.
 *
 * Scripts read the clock with `TIME` (Redis ≥ 5 replicates effects, not scripts), so delays never
 * depend on the clocks of the machines running consumers.
 */

/** A Lua script with its SHA1, run by EVALSHA with a fallback to EVAL on `NOSCRIPT`. */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** A standalone or cluster client. */
export type ScriptClient = Redis | Cluster;
type Argument = string | number | Buffer;

/** A script whose source is the shared helpers followed by `body`. */
export function defineScript(name: string, body: string): Script {
  const source = `${COMMON_LUA}\n${body}`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs `script`; loads it on the node (EVAL) when that node does not know it yet. */
export async function runScript(
  client: ScriptClient,
  script: Script,
  keys: readonly string[],
  args: readonly Argument[],
): Promise<unknown> {
  const watch = watchConnection(client);
  try {
    return await watch.run(client.callBuffer('EVALSHA', script.sha, keys.length, ...keys, ...args));
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return watch.run(client.callBuffer('EVAL', script.source, keys.length, ...keys, ...args));
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** A reply element as a string (replies come back as buffers). */
export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString() : String(value);
}
