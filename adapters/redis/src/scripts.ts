// The Lua scripts that do every multi-step change atomically on the server.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { watchConnection } from './connection-watch.js';

/**
 * The server-side half of the adapter. Every step that must not be split by a crash (move a
 * scheduled message into a stream, dead-letter, redrive, release) is one Lua script, so Redis runs
 * it atomically. All keys a script touches share one hash tag (`{topic}`), so every script also
 * runs on Redis Cluster.
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

function script(name: string, body: string): Script {
  const source = `${COMMON}\n${body}`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

type Client = Redis | Cluster;
type Argument = string | number | Buffer;

/** Runs `script`; loads it on the node (EVAL) when that node does not know it yet. */
export async function runScript(
  client: Client,
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

// Helpers shared by every script. Field names are the ones documented in fields.ts.
const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Stream ids compare by (ms, seq), each a decimal of up to 20 digits without leading zeros: compared
-- as strings (length first), since Lua numbers lose precision above 2^53 and a plain client may
-- XADD any explicit id.
local function split_id(id)
  local dash = string.find(id, '-', 1, true)
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end

local function decimal_less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

local function id_less(a, b)
  local ams, aseq = split_id(a)
  local bms, bseq = split_id(b)
  if ams ~= bms then return decimal_less(ams, bms) end
  return decimal_less(aseq, bseq)
end

-- The smallest id after \`id\`; an id whose sequence is too large to add to exactly is returned as is
-- (trimming then keeps one entry more).
local function next_id(id)
  local ms, seq = split_id(id)
  if #seq > 15 then return id end
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end

-- The checks fields.ts applies to what it reads, so a copy never turns a foreign value into one
-- that looks like Omnibus wrote it.
local function valid_token(value)
  return #value >= 1 and #value <= 128 and not string.find(value, '[^\\33-\\126]')
end

local function valid_ms(value)
  return #value >= 1 and #value <= 16 and not string.find(value, '[^0-9]')
end

-- Starts a topic's registry when it has none. \`lost\`: there is evidence the server lost data
-- (a stream or a group existed without it), so new subscriptions start at 0 until it is complete.
local function open_registry(registry, lost)
  if redis.call('EXISTS', registry) == 1 then return end
  local now = string.format('%d', now_ms())
  if lost then
    redis.call('HSET', registry, '~lost-at', now)
  else
    redis.call('HSET', registry, '~unsure-since', now)
  end
end

local function xadd(stream, maxlen, fields)
  if maxlen > 0 then
    return redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  end
  return redis.call('XADD', stream, '*', unpack(fields))
end

-- Copies an entry's fields for re-publishing: drops the carried attempt and dead-letter metadata,
-- and pins id and publish time for entries a plain client wrote without them.
local function carry_fields(id, fields)
  local out = {}
  local has_id, has_ts = false, false
  for i = 1, #fields, 2 do
    local name = fields[i]
    local value = fields[i + 1]
    local keep = name ~= 'omnibus-attempt' and string.sub(name, 1, 20) ~= 'omnibus-dead-letter-' and string.sub(name, 1, 15) ~= 'omnibus-source-'
    if name == 'omnibus-id' then
      keep = not has_id and valid_token(value)
      has_id = has_id or keep
    elseif name == 'omnibus-ts' then
      keep = not has_ts and valid_ms(value)
      has_ts = has_ts or keep
    end
    if keep then
      out[#out + 1] = name
      out[#out + 1] = fields[i + 1]
    end
  end
  if not has_id then
    out[#out + 1] = 'omnibus-id'
    out[#out + 1] = id
  end
  if not has_ts then
    out[#out + 1] = 'omnibus-ts'
    out[#out + 1] = (split_id(id))
  end
  return out
end

local function entry_fields(stream, id)
  local found = redis.call('XRANGE', stream, id, id)
  if #found == 0 then return nil end
  return found[1][2]
end

-- The pending entry of id, if it is still held by consumer with the same delivery count:
-- a holder whose lease expired (someone else reclaimed it) must not settle it any more.
local function still_held(stream, group, consumer, id, deliveries)
  local ok, pending = pcall(redis.call, 'XPENDING', stream, group, id, id, 1)
  if not ok or #pending == 0 then return false end
  local entry = pending[1]
  return entry[2] == consumer and (deliveries == 0 or tonumber(entry[4]) == deliveries)
end

local function dead_letter(source, dlq, group, id, fields, reason, attempts, topic, subscription, maxlen)
  local out = carry_fields(id, fields)
  out[#out + 1] = 'omnibus-dead-letter-reason'
  out[#out + 1] = reason
  out[#out + 1] = 'omnibus-dead-letter-attempts'
  out[#out + 1] = tostring(attempts)
  out[#out + 1] = 'omnibus-dead-lettered-at'
  out[#out + 1] = string.format('%d', now_ms())
  out[#out + 1] = 'omnibus-source-topic'
  out[#out + 1] = topic
  out[#out + 1] = 'omnibus-source-subscription'
  out[#out + 1] = subscription
  xadd(dlq, maxlen, out)
  redis.call('XACK', source, group, id)
end

-- Attempts carried by an entry of a retry stream; what Omnibus would not have written counts as 0.
local function carried_attempt(fields)
  local carried = 0
  for i = 1, #fields, 2 do
    if fields[i] == 'omnibus-attempt' then
      local value = fields[i + 1]
      if #value >= 1 and #value <= 6 and not string.find(value, '[^0-9]') then carried = tonumber(value) else carried = 0 end
    end
  end
  return carried
end

-- Moves due members of a scheduled set into their stream. A member is cmsgpack({nonce, fields...}).
local function move_due(zset, stream, now, limit, maxlen)
  local due = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, limit)
  for _, member in ipairs(due) do
    -- A member some other client added may not unpack, or not to name/value pairs of strings:
    -- it goes into the stream as the body of an entry of its own (core dead-letters what it can't
    -- decode) instead of failing this script, and with it every receive, forever.
    local ok, packed = pcall(cmsgpack.unpack, member)
    local fields = {}
    local usable = ok and type(packed) == 'table' and #packed >= 3 and #packed % 2 == 1
    if usable then
      for i = 2, #packed do
        if type(packed[i]) ~= 'string' then usable = false end
        fields[#fields + 1] = packed[i]
      end
    end
    if not usable then fields = { 'body', member } end
    xadd(stream, maxlen, fields)
    redis.call('ZREM', zset, member)
  end
  return #due
end

local function next_due(zset, now)
  local first = redis.call('ZRANGE', zset, 0, 0, 'WITHSCORES')
  if #first == 0 then return -1 end
  local wait = tonumber(first[2]) - now
  if wait < 0 then return 0 end
  return wait
end
`;

/**
 * A consumer's periodic maintenance, one round trip: move due scheduled messages into their
 * streams, then reclaim entries idle past the lease (their consumer died) with XAUTOCLAIM, reading
 * each one's delivery count from the pending list. The delivery after the last attempt is handed
 * out (core dead-letters it, saying the lease expired); an entry past even that goes to the DLQ
 * here instead (the adapter's native backstop, which never fires while core settles). New entries are not read here: a
 * plain XREADGROUP does that, without Lua's cost per entry.
 * KEYS: topic, retry, delayed, retryDelayed, dlq.
 * ARGV: group, consumer, count, minIdle, topicCursor, retryCursor, maxAttempts (0: no limit),
 * topic, subscription, maxlen.
 * Returns {topicCursor, retryCursor, nextDueMs (-1: none), n, then n × (streamIndex, id, attempt,
 * deliveries, fieldCount, fields...)}.
 */
export const MAINTAIN = script(
  'maintain',
  `
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local min_idle = tonumber(ARGV[4])
local cursors = { ARGV[5], ARGV[6] }
local max_attempts = tonumber(ARGV[7])
local topic, subscription, maxlen = ARGV[8], ARGV[9], tonumber(ARGV[10])
local streams = { KEYS[1], KEYS[2] }
local now = now_ms()

move_due(KEYS[3], KEYS[1], now, 100, maxlen)
move_due(KEYS[4], KEYS[2], now, 100, maxlen)

local reply = { '', '', -1, 0 }
local taken = 0
for index = 1, 2 do
  if taken < count then
    local claimed = redis.call('XAUTOCLAIM', streams[index], group, consumer, min_idle, cursors[index], 'COUNT', count - taken)
    cursors[index] = claimed[1]
    for _, entry in ipairs(claimed[2]) do
      if type(entry) == 'table' and type(entry[2]) == 'table' then
        local id, fields = entry[1], entry[2]
        local pending = redis.call('XPENDING', streams[index], group, id, id, 1)
        local deliveries = 1
        if #pending > 0 then deliveries = tonumber(pending[1][4]) end
        -- Only the retry stream carries attempts: Omnibus never writes them into a topic stream.
        local carried = 0
        if index == 2 then carried = carried_attempt(fields) end
        local attempt = carried + deliveries
        -- The delivery after the last attempt goes to core, which dead-letters it with the reason.
        -- Only one more means core itself never settled that one (its consumer died too): the
        -- backstop then records what core would have, the attempts a handler had.
        if max_attempts > 0 and attempt > max_attempts + 1 then
          dead_letter(streams[index], KEYS[5], group, id, fields,
            'lease expired on attempt ' .. max_attempts .. ' of ' .. max_attempts ..
            ': the delivery was never settled (the handler outlived ackDeadlineMs, or the consumer stopped or crashed holding it)',
            max_attempts, topic, subscription, maxlen)
        else
          reply[#reply + 1] = index - 1
          reply[#reply + 1] = id
          reply[#reply + 1] = attempt
          reply[#reply + 1] = deliveries
          reply[#reply + 1] = #fields
          for i = 1, #fields do reply[#reply + 1] = fields[i] end
          taken = taken + 1
        end
      end
    end
  end
end

local wait = next_due(KEYS[3], now)
local retry_wait = next_due(KEYS[4], now)
if wait < 0 or (retry_wait >= 0 and retry_wait < wait) then wait = retry_wait end
reply[1], reply[2], reply[3], reply[4] = cursors[1], cursors[2], wait, taken
return reply
`,
);

/**
 * Releases one delivery for redelivery to this subscription only: copies the entry into the
 * subscription's retry stream (or its retry schedule, for a delay) with the attempt carried, and
 * acknowledges the original, atomically.
 * KEYS: source, retry, retryDelayed. ARGV: group, consumer, id, deliveries, delayMs, attempt, nonce, maxlen.
 * Returns 1 if released, 0 if the delivery is no longer held by this consumer.
 */
export const NACK = script(
  'nack',
  `
local group, consumer, id = ARGV[1], ARGV[2], ARGV[3]
local deliveries, delay, attempt = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local nonce, maxlen = ARGV[7], tonumber(ARGV[8])
if not still_held(KEYS[1], group, consumer, id, deliveries) then return 0 end
local fields = entry_fields(KEYS[1], id)
if fields == nil then
  redis.call('XACK', KEYS[1], group, id)
  return 0
end
local out = carry_fields(id, fields)
out[#out + 1] = 'omnibus-attempt'
out[#out + 1] = attempt
if delay <= 0 then
  xadd(KEYS[2], maxlen, out)
else
  local packed = { nonce }
  for i = 1, #out do packed[#packed + 1] = out[i] end
  redis.call('ZADD', KEYS[3], now_ms() + delay, cmsgpack.pack(packed))
end
redis.call('XACK', KEYS[1], group, id)
return 1
`,
);

/**
 * Moves one delivery to the DLQ stream with its reason and attempts, and acknowledges it, atomically.
 * KEYS: source, dlq. ARGV: group, consumer, id, deliveries, reason, attempts, topic, subscription, maxlen.
 */
export const DEAD_LETTER = script(
  'dead-letter',
  `
local group, consumer, id = ARGV[1], ARGV[2], ARGV[3]
if not still_held(KEYS[1], group, consumer, id, tonumber(ARGV[4])) then return 0 end
local fields = entry_fields(KEYS[1], id)
if fields == nil then
  redis.call('XACK', KEYS[1], group, id)
  return 0
end
dead_letter(KEYS[1], KEYS[2], group, id, fields, ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]))
return 1
`,
);

/**
 * Resets the idle time of deliveries still held by this consumer (XCLAIM … JUSTID does not count a
 * delivery), which pushes their lease out.
 * KEYS: stream. ARGV: group, consumer, idleMs, then pairs of (id, deliveries).
 * Returns how many leases were extended.
 */
export const EXTEND = script(
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

/**
 * Publishes a batch in one round trip: each message is XADDed to the topic stream, or, with a
 * delay, put in the topic's scheduled set scored by its due time on the server's clock. One script
 * call per batch costs the client far less than one XADD per message (ioredis builds a command
 * object per call), which is most of the publish cost.
 * KEYS: stream, delayed. ARGV: maxlen, then per message: delayMs, nonce, fieldCount, fields...
 * Returns how many messages were published.
 */
export const PUBLISH = script(
  'publish',
  `
local maxlen = tonumber(ARGV[1])
local now = nil
local i, published = 2, 0
while i <= #ARGV do
  local delay, nonce, count = tonumber(ARGV[i]), ARGV[i + 1], tonumber(ARGV[i + 2])
  local first = i + 3
  if delay > 0 then
    now = now or now_ms()
    local packed = { nonce }
    for j = first, first + count - 1 do packed[#packed + 1] = ARGV[j] end
    redis.call('ZADD', KEYS[2], now + delay, cmsgpack.pack(packed))
  elseif maxlen > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, first, first + count - 1))
  else
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, first, first + count - 1))
  end
  published = published + 1
  i = first + count
end
return published
`,
);

/**
 * Creates the subscription's consumer groups and registers the subscription with its settings in
 * the topic's registry (see TRIM for what the registry is for).
 *
 * Where the topic group starts: at 0 when the subscription may have existed before the server lost
 * data (mode `recover` after NOGROUP, a registered subscription whose group is gone, a registry
 * marked `~lost-at`, a stream without a registry): everything the stream holds was then sent after
 * the subscription existed. Otherwise at `$`: a new subscription gets only later messages.
 * The retry stream always starts at 0.
 * KEYS: topic, retry, registry. ARGV: group, mode (`create` | `recover`), settings.
 * Returns the settings the registry holds for the subscription (the first ones registered win).
 */
export const ENSURE_SUBSCRIPTION = script(
  'ensure-subscription',
  `
local group, mode, settings = ARGV[1], ARGV[2], ARGV[3]
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

/**
 * Creates an empty stream if none exists, and the topic's registry if it has none.
 * KEYS: stream, registry.
 */
export const ENSURE_TOPIC = script(
  'ensure-topic',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('TYPE', KEYS[1])['ok'] ~= 'stream' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' holds a value that is not a stream')
  end
  open_registry(KEYS[2], true)
  return 0
end
redis.call('XGROUP', 'CREATE', KEYS[1], 'omnibus-init', '$', 'MKSTREAM')
redis.call('XGROUP', 'DESTROY', KEYS[1], 'omnibus-init')
open_registry(KEYS[2], false)
return 1
`,
);

/**
 * Retention: trims every entry that all subscriptions have acknowledged, i.e. below the oldest
 * entry any of them still needs (a group's oldest pending entry, else the first after its
 * last-delivered id). Never deletes what a subscription may still need:
 * - A subscription in the registry whose group is missing (the server lost it, a consumer has not
 *   recreated it yet) needs everything: nothing is trimmed.
 * - The registry itself is only trusted to list every subscription once it is `~complete`: it has
 *   existed for `ARGV[1]` ms (staleConsumerMs), long enough for the consumers of any subscription
 *   the server forgot to come back and register again. A registry can't tell a new topic from one
 *   whose server lost its data before anyone returned, so every new registry waits the same.
 * - A retry stream (`ARGV[2]` = `retry`) without its group is not trimmed either.
 * Only a topic with a complete registry listing no subscription and no group is emptied: no
 * subscription could ever read its entries (a new one starts at the end).
 * Also forgets consumers that hold nothing and were idle for `ARGV[1]` ms.
 * KEYS: stream, registry. ARGV: staleMs (0: never), kind (`topic` | `retry`).
 * Returns how many entries were trimmed.
 */
export const TRIM = script(
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

/**
 * Counts for stats, in one consistent snapshot.
 * KEYS: topic, retry, delayed, retryDelayed, dlq. ARGV: group.
 * Returns {found (0/1), lag or -1 when Redis can't tell, pending, deadLettered}.
 */
export const STATS = script(
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

/**
 * Moves up to `ARGV[1]` dead letters, oldest first and none after id `ARGV[3]` (the newest when the
 * redrive began: one dead-lettered again meanwhile is not taken twice), into the subscription's
 * retry stream with the attempt count reset, deleting each from the DLQ in the same step.
 * KEYS: dlq, retry. ARGV: limit, maxlen, lastId. Returns how many were moved.
 */
export const REDRIVE = script(
  'redrive',
  `
local entries = redis.call('XRANGE', KEYS[1], '-', ARGV[3], 'COUNT', tonumber(ARGV[1]))
for _, entry in ipairs(entries) do
  local out = carry_fields(entry[1], entry[2])
  out[#out + 1] = 'omnibus-attempt'
  out[#out + 1] = '0'
  xadd(KEYS[2], tonumber(ARGV[2]), out)
  redis.call('XDEL', KEYS[1], entry[1])
end
return #entries
`,
);

/** Deletes the DLQ stream; returns how many entries it held. KEYS: dlq. */
export const PURGE = script(
  'purge',
  `
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
`,
);

/** Deletes the consumer if it holds no pending entry (deleting it would drop them). KEYS: topic, retry. ARGV: group, consumer. */
export const FORGET_CONSUMER = script(
  'forget-consumer',
  `
for _, stream in ipairs(KEYS) do
  local ok, pending = pcall(redis.call, 'XPENDING', stream, ARGV[1], '-', '+', 1, ARGV[2])
  if not ok or #pending > 0 then return 0 end
end
for _, stream in ipairs(KEYS) do redis.call('XGROUP', 'DELCONSUMER', stream, ARGV[1], ARGV[2]) end
return 1
`,
);
