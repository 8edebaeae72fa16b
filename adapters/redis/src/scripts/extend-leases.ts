// The EXTEND script: resets the idle time of deliveries this consumer still holds.
import { defineScript, runScript, type ScriptClient } from './script.js';

/** XCLAIM … JUSTID does not count a delivery; a holder whose lease already passed to another is skipped. */
const EXTEND = defineScript(
  'extend',
  `
local group, consumer, idle = ARGV[1], ARGV[2], ARGV[3]
local extended = 0
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  if still_held(KEYS[1], group, consumer, id, tonumber(ARGV[i + 1])) then
    redis.call('XCLAIM', KEYS[1], group, consumer, 0, id, 'IDLE', idle, 'JUSTID')
    extended = extended + 1
  end
end
return extended
`,
);

export interface ExtendLeasesRequest {
  readonly group: string;
  readonly consumer: string;
  /** The idle time to set: a lease of `ackDeadlineMs` then ends `ackDeadlineMs - idleMs` from now. */
  readonly idleMs: number;
  readonly entries: readonly { readonly id: string; readonly deliveries: number }[];
}

/** Returns how many leases were extended. */
export async function extendLeases(
  client: ScriptClient,
  stream: string,
  request: ExtendLeasesRequest,
): Promise<number> {
  const args: (string | number)[] = [request.group, request.consumer, request.idleMs];
  for (const entry of request.entries) args.push(entry.id, entry.deliveries);
  return Number(await runScript(client, EXTEND, [stream], args));
}
