// The STATS script: a subscription's counts in one consistent snapshot, and whether its groups exist.
import { defineScript, runScript, type ScriptClient } from './script.js';

const STATS = defineScript(
  'stats',
  `
local function group_info(stream)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)
  if not ok then return nil end
  for _, info in ipairs(groups) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == ARGV[1] then return fields end
  end
  return nil
end
local topic = group_info(KEYS[1])
local retry = group_info(KEYS[2])
if topic == nil or retry == nil then return { 0, -1, 0, 0 } end
local now = now_ms()
local lag = -1
if type(topic['lag']) == 'number' and type(retry['lag']) == 'number' then
  lag = topic['lag'] + retry['lag'] + redis.call('ZCOUNT', KEYS[3], '-inf', now) + redis.call('ZCOUNT', KEYS[4], '-inf', now)
end
return { 1, lag, tonumber(topic['pending']) + tonumber(retry['pending']), redis.call('XLEN', KEYS[5]) }
`,
);

export interface SubscriptionCounts {
  /** False when a consumer group of the subscription is missing. */
  readonly found: boolean;
  /** Entries not yet delivered, due scheduled ones included; -1 when Redis can't tell. */
  readonly lag: number;
  /** Delivered and not yet settled. */
  readonly pending: number;
  readonly deadLettered: number;
}

export async function subscriptionCounts(
  client: ScriptClient,
  keys: {
    readonly stream: string;
    readonly retry: string;
    readonly delayed: string;
    readonly retryDelayed: string;
    readonly deadLetters: string;
  },
  request: { readonly group: string },
): Promise<SubscriptionCounts> {
  const reply = (await runScript(
    client,
    STATS,
    [keys.stream, keys.retry, keys.delayed, keys.retryDelayed, keys.deadLetters],
    [request.group],
  )) as unknown[];
  return {
    found: Number(reply[0]) === 1,
    lag: Number(reply[1]),
    pending: Number(reply[2]),
    deadLettered: Number(reply[3]),
  };
}
