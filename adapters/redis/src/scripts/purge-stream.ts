// The PURGE script: deletes a DLQ stream and says how many entries it held.
import { defineScript, runScript, type ScriptClient } from './script.js';

const PURGE = defineScript(
  'purge',
  `
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
`,
);

/** Returns how many entries the stream held. */
export async function purgeStream(client: ScriptClient, stream: string): Promise<number> {
  return Number(await runScript(client, PURGE, [stream], []));
}
