// The TRIM script: retention (entries every subscription acknowledged) and stale consumers.
import { defineScript, runScript, type ScriptClient } from './script.js';

/**
 * Retention: trims every entry that all subscriptions have acknowledged, i.e. below the oldest
 * entry any of them still needs (a group's oldest pending entry, else the first after its
 * last-delivered id). Never deletes what a subscription may still need:
 * - A subscription in the registry whose group is missing (the server lost it, a consumer has not
 *   recreated it yet) needs everything: nothing is trimmed.
 * - The registry itself is only trusted to list every subscription once it is `~complete`: it has
 *   existed for `staleConsumerMs`, long enough for the consumers of any subscription
 *   the server forgot to come back and register again. A registry can't tell a new topic from one
 *   whose server lost its data before anyone returned, so every new registry waits the same.
 * - A retry stream (kind `retry`) without its group is not trimmed either.
 * Only a topic with a complete registry listing no subscription and no group is emptied: no
 * subscription could ever read its entries (a new one starts at the end).
 * Also forgets consumers that hold nothing and were idle for `staleConsumerMs`.
 */
const TRIM = defineScript(
  'trim',
  `
local stale_ms, kind = tonumber(ARGV[1]), ARGV[2]
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return 0 end
local names = {}
for _, info in ipairs(groups) do
  for i = 1, #info, 2 do
    if info[i] == 'name' then names[info[i + 1]] = true end
  end
end
if kind == 'topic' then
  local registry = redis.call('HGETALL', KEYS[2])
  local fields = {}
  for i = 1, #registry, 2 do fields[registry[i]] = registry[i + 1] end
  if fields['~complete'] == nil then
    if #registry == 0 then
      -- A stream without a registry: the server lost its data (or the topic predates registries).
      open_registry(KEYS[2], true)
      return 0
    end
    local since = tonumber(fields['~lost-at'] or fields['~unsure-since'])
    if since == nil or stale_ms <= 0 or now_ms() - since < stale_ms then return 0 end
    redis.call('HSET', KEYS[2], '~complete', '1')
    redis.call('HDEL', KEYS[2], '~lost-at', '~unsure-since')
    fields['~lost-at'] = nil
    fields['~unsure-since'] = nil
  end
  for name, _ in pairs(fields) do
    if string.sub(name, 1, 1) ~= '~' and not names[name] then return 0 end
  end
  if #groups == 0 then
    return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
  end
elseif #groups == 0 then
  return 0
end
local floor = nil
for _, info in ipairs(groups) do
  local name, last, pending = nil, nil, 0
  for i = 1, #info, 2 do
    if info[i] == 'name' then name = info[i + 1] end
    if info[i] == 'last-delivered-id' then last = info[i + 1] end
    if info[i] == 'pending' then pending = tonumber(info[i + 1]) end
  end
  local needed
  if pending > 0 then
    needed = redis.call('XPENDING', KEYS[1], name)[2]
  else
    needed = next_id(last)
  end
  if floor == nil or id_less(needed, floor) then floor = needed end
  if stale_ms > 0 then
    for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], name)) do
      local cname, cpending, cidle = nil, 0, 0
      for i = 1, #consumer, 2 do
        if consumer[i] == 'name' then cname = consumer[i + 1] end
        if consumer[i] == 'pending' then cpending = tonumber(consumer[i + 1]) end
        if consumer[i] == 'idle' then cidle = tonumber(consumer[i + 1]) end
      end
      if cpending == 0 and cidle > stale_ms then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], name, cname) end
    end
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)
`,
);

export interface TrimStreamRequest {
  /** Consumers holding nothing and idle this long are removed; also how long a registry must exist to be trusted (0: never). */
  readonly staleConsumerMs: number;
  /** A topic stream (checked against the registry) or a subscription's retry stream. */
  readonly kind: 'topic' | 'retry';
}

/** Returns how many entries were trimmed. */
export async function trimStream(
  client: ScriptClient,
  keys: { readonly stream: string; readonly subscriptions: string },
  request: TrimStreamRequest,
): Promise<number> {
  return Number(
    await runScript(
      client,
      TRIM,
      [keys.stream, keys.subscriptions],
      [request.staleConsumerMs, request.kind],
    ),
  );
}
