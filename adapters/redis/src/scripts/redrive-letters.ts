// The REDRIVE_LETTERS script: chosen dead letters (by stream id) back into the retry stream, one atomic move each.
import { defineScript, runScript, type ScriptClient } from './script.js';

/**
 * Moves the dead letters with these stream ids into the subscription's retry stream, attempts
 * reset and the redrive count one higher (the same copy as the bulk REDRIVE), deleting each from
 * the DLQ in the same step. Replies 1 per id moved, 0 per id no longer in the DLQ.
 */
const REDRIVE_LETTERS = defineScript(
  'redrive-letters',
  `
local maxlen = tonumber(ARGV[1])
local moved = {}
for i = 2, #ARGV do
  local fields = entry_fields(KEYS[1], ARGV[i])
  if fields == nil then
    moved[#moved + 1] = 0
  else
    xadd(KEYS[2], maxlen, redrive_fields(ARGV[i], fields))
    redis.call('XDEL', KEYS[1], ARGV[i])
    moved[#moved + 1] = 1
  end
end
return moved
`,
);

/** One flag per stream id, in order: true if moved, false if it was no longer in the DLQ. */
export async function redriveLetters(
  client: ScriptClient,
  keys: { readonly deadLetters: string; readonly retry: string },
  request: { readonly streamIds: readonly string[]; readonly maxLength: number },
): Promise<boolean[]> {
  if (request.streamIds.length === 0) return [];
  const reply = (await runScript(
    client,
    REDRIVE_LETTERS,
    [keys.deadLetters, keys.retry],
    [request.maxLength, ...request.streamIds],
  )) as unknown[];
  return reply.map((flag) => Number(flag) === 1);
}
