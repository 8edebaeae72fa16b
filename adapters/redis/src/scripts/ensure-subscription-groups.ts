// The ENSURE_SUBSCRIPTION script: a subscription's consumer groups and its row in the topic's registry.
import { DELETED_MARK } from './delete-subscription.js';
import { defineScript, runScript, type ScriptClient, text } from './script.js';

/**
 * Creates the subscription's consumer groups and registers the subscription with its settings in
 * the topic's registry (see trim-stream.ts for what the registry is for).
 *
 * Where the topic group starts: at 0 when the subscription may have existed before the server lost
 * data (mode `recover` after NOGROUP, a registered subscription whose group is gone, a registry
 * marked `~lost-at`, a stream without a registry): everything the stream holds was then sent after
 * the subscription existed. Otherwise at `$`: a new subscription gets only later messages.
 * The retry stream always starts at 0.
 *
 * A subscription deleted on purpose (its tombstone in the registry, see delete-subscription.ts) is
 * not recovered: the script replies `DELETED`, and the consumer that met NOGROUP stops with
 * `NotFound`. Creating it again clears the tombstone.
 */
const ENSURE_SUBSCRIPTION = defineScript(
  'ensure-subscription',
  `
local group, mode, settings = ARGV[1], ARGV[2], ARGV[3]
local tombstone = '${DELETED_MARK}' .. group
if mode == 'recover' and redis.call('HEXISTS', KEYS[3], tombstone) == 1 then
  return redis.error_reply('DELETED the subscription was deleted')
end
redis.call('HDEL', KEYS[3], tombstone)
-- ENTRIESREAD 0 at id 0 keeps XINFO's lag exact for a group that starts at the beginning.
local function create(stream, id)
  local ok, err
  if id == '$' then
    ok, err = pcall(redis.call, 'XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM')
  else
    ok, err = pcall(redis.call, 'XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM', 'ENTRIESREAD', 0)
  end
  if not ok then
    local message = err['err'] or tostring(err)
    if string.sub(message, 1, 9) ~= 'BUSYGROUP' then return redis.error_reply(message) end
  end
  return nil
end
local stream_existed = redis.call('EXISTS', KEYS[1]) == 1
open_registry(KEYS[3], stream_existed or mode == 'recover')
if mode == 'recover' and redis.call('HEXISTS', KEYS[3], '~complete') == 0 then
  redis.call('HSETNX', KEYS[3], '~lost-at', string.format('%d', now_ms()))
end
local lost = redis.call('HEXISTS', KEYS[3], '~lost-at') == 1
local registered = redis.call('HGET', KEYS[3], group)
local start = '$'
if mode == 'recover' or registered or lost then start = '0' end
local failure = create(KEYS[1], start)
if failure then return failure end
failure = create(KEYS[2], '0')
if failure then return failure end
redis.call('HSETNX', KEYS[3], group, settings)
return redis.call('HGET', KEYS[3], group)
`,
);

export interface EnsureSubscriptionGroupsRequest {
  readonly group: string;
  /** `create`: a consumer asked for it; `recover`: the server lost a group this process knew. */
  readonly mode: 'create' | 'recover';
  /** The settings to register if none are (`encodeSubscriptionSettings` in topology.ts). */
  readonly settings: string;
}

/** Returns the settings the registry holds for the subscription (the first ones registered win). */
export async function ensureSubscriptionGroups(
  client: ScriptClient,
  keys: { readonly stream: string; readonly retry: string; readonly subscriptions: string },
  request: EnsureSubscriptionGroupsRequest,
): Promise<string> {
  const reply = await runScript(
    client,
    ENSURE_SUBSCRIPTION,
    [keys.stream, keys.retry, keys.subscriptions],
    [request.group, request.mode, request.settings],
  );
  return text(reply);
}
