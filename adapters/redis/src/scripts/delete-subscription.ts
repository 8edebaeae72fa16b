// The DELETE_SUBSCRIPTION script: a subscription's consumer group, retry stream, retry set, DLQ and registry row, in one step.
import { defineScript, runScript, type ScriptClient } from './script.js';

/** Registry field marking a subscription deleted on purpose, so its running consumers don't recreate it. */
export const DELETED_MARK = '~deleted:';

/**
 * Destroys the subscription's group on the topic stream, deletes its retry stream (and the group on
 * it), its retry sorted set and its DLQ stream, and removes it from the topic's registry, so
 * retention stops keeping entries for it and a subscription created later under the same name
 * starts at the end of the stream like any new one. Where the registry exists it records a
 * tombstone (`~deleted:<name>`, cleared when the subscription is created again): a consumer still
 * running meets NOGROUP and would otherwise recreate the group as after a server's data loss.
 * Replies 1 if any of it existed.
 */
const DELETE_SUBSCRIPTION = defineScript(
  'delete-subscription',
  `
local group = ARGV[1]
local existed = false
local ok, destroyed = pcall(redis.call, 'XGROUP', 'DESTROY', KEYS[1], group)
if ok and destroyed == 1 then existed = true end
if redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) > 0 then existed = true end
if redis.call('HDEL', KEYS[5], group) > 0 then existed = true end
if existed and redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('HSET', KEYS[5], '${DELETED_MARK}' .. group, string.format('%d', now_ms()))
end
if existed then return 1 end
return 0
`,
);

/** True if anything of the subscription existed. */
export async function deleteSubscriptionKeys(
  client: ScriptClient,
  keys: {
    readonly stream: string;
    readonly retry: string;
    readonly retryDelayed: string;
    readonly deadLetters: string;
    readonly subscriptions: string;
  },
  request: { readonly group: string },
): Promise<boolean> {
  const reply = await runScript(
    client,
    DELETE_SUBSCRIPTION,
    [keys.stream, keys.retry, keys.retryDelayed, keys.deadLetters, keys.subscriptions],
    [request.group],
  );
  return Number(reply) === 1;
}
