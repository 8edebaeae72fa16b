// The REDRIVE script: the oldest dead letters back into the retry stream, attempts reset, redrives + 1, in one step each.
import { defineScript, runScript, type ScriptClient } from './script.js';

/**
 * Moves up to `limit` dead letters, oldest first and none after `lastId` (the newest when the
 * redrive began: one dead-lettered again meanwhile is not taken twice), into the subscription's
 * retry stream with the attempt count reset and the redrive count one higher, deleting each from the DLQ in the same step.
 */
export const REDRIVE = defineScript(
  'redrive',
  `
local entries = redis.call('XRANGE', KEYS[1], '-', ARGV[3], 'COUNT', tonumber(ARGV[1]))
for _, entry in ipairs(entries) do
  xadd(KEYS[2], tonumber(ARGV[2]), redrive_fields(entry[1], entry[2]))
  redis.call('XDEL', KEYS[1], entry[1])
end
return #entries
`,
);

export interface RedriveBatchRequest {
  readonly limit: number;
  readonly maxLength: number;
  /** The newest dead letter's id when the redrive began. */
  readonly lastId: string;
}

/** Returns how many were moved. */
export async function redriveBatch(
  client: ScriptClient,
  keys: { readonly deadLetters: string; readonly retry: string },
  request: RedriveBatchRequest,
): Promise<number> {
  return Number(
    await runScript(
      client,
      REDRIVE,
      [keys.deadLetters, keys.retry],
      [request.limit, request.maxLength, request.lastId],
    ),
  );
}
