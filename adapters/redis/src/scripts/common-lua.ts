// The Lua helpers every script shares, with the wire names from core's WIRE.
import { WIRE } from '@omnibus/core';

/** A Lua string literal (the names are ASCII without quotes or backslashes). */
const lua = (value: string): string => `'${value}'`;

/**
 * Prepended to every script. Field names are core's {@link WIRE} names (see fields.ts for the entry
 * layout); a pre-v2 entry's `omnibus-ts`, `omnibus-attempt`… are unknown fields here, read as a
 * plain client's would be.
 */
export const COMMON_LUA = `
local FIELD_ID = ${lua(WIRE.id)}
local FIELD_PUBLISHED_AT = ${lua(WIRE.publishedAt)}
local FIELD_ATTEMPTS = ${lua(WIRE.attempts)}
local FIELD_DEAD_LETTER_REASON = ${lua(WIRE.deadLetterReason)}
local FIELD_DEAD_LETTER_ATTEMPTS = ${lua(WIRE.deadLetterAttempts)}
local FIELD_DEAD_LETTERED_AT = ${lua(WIRE.deadLetteredAt)}
local FIELD_SOURCE_TOPIC = ${lua(WIRE.sourceTopic)}
local FIELD_SOURCE_SUBSCRIPTION = ${lua(WIRE.sourceSubscription)}
local FIELD_REDRIVES = ${lua(WIRE.redrives)}
-- What a copy (nack, release, dead-letter, redrive) never carries over: the copy writes its own.
local DROPPED_ON_COPY = {
  [FIELD_ATTEMPTS] = true,
  [FIELD_DEAD_LETTER_REASON] = true,
  [FIELD_DEAD_LETTER_ATTEMPTS] = true,
  [FIELD_DEAD_LETTERED_AT] = true,
  [FIELD_SOURCE_TOPIC] = true,
  [FIELD_SOURCE_SUBSCRIPTION] = true,
}
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

-- Copies an entry's fields for re-publishing: drops the carried attempts and dead-letter metadata,
-- and pins id and publish time for entries a plain client wrote without them.
local function carry_fields(id, fields)
  local out = {}
  local has_id, has_ts = false, false
  for i = 1, #fields, 2 do
    local name = fields[i]
    local value = fields[i + 1]
    local keep = not DROPPED_ON_COPY[name] and string.sub(name, 1, 19) ~= 'omnibus-dead-letter' and string.sub(name, 1, 15) ~= 'omnibus-source-'
    if name == FIELD_ID then
      keep = not has_id and valid_token(value)
      has_id = has_id or keep
    elseif name == FIELD_PUBLISHED_AT then
      keep = not has_ts and valid_ms(value)
      has_ts = has_ts or keep
    end
    if keep then
      out[#out + 1] = name
      out[#out + 1] = fields[i + 1]
    end
  end
  if not has_id then
    out[#out + 1] = FIELD_ID
    out[#out + 1] = id
  end
  if not has_ts then
    out[#out + 1] = FIELD_PUBLISHED_AT
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
  out[#out + 1] = FIELD_DEAD_LETTER_REASON
  out[#out + 1] = reason
  out[#out + 1] = FIELD_DEAD_LETTER_ATTEMPTS
  out[#out + 1] = tostring(attempts)
  out[#out + 1] = FIELD_DEAD_LETTERED_AT
  out[#out + 1] = string.format('%d', now_ms())
  out[#out + 1] = FIELD_SOURCE_TOPIC
  out[#out + 1] = topic
  out[#out + 1] = FIELD_SOURCE_SUBSCRIPTION
  out[#out + 1] = subscription
  xadd(dlq, maxlen, out)
  redis.call('XACK', source, group, id)
end

-- A dead letter's fields for its copy back into the retry stream: attempts reset, and the redrive
-- count one above the letter's (a value Omnibus would not have written counts as 0, as fields.ts
-- reads it). Other copies (nack, release, dead-letter) carry the redrive count over unchanged.
local function redrive_fields(id, fields)
  local carried = carry_fields(id, fields)
  local out = {}
  local redrives = 0
  for i = 1, #carried, 2 do
    if carried[i] == FIELD_REDRIVES then
      local value = carried[i + 1]
      if #value >= 1 and #value <= 6 and not string.find(value, '[^0-9]') then redrives = tonumber(value) else redrives = 0 end
    else
      out[#out + 1] = carried[i]
      out[#out + 1] = carried[i + 1]
    end
  end
  out[#out + 1] = FIELD_ATTEMPTS
  out[#out + 1] = '0'
  out[#out + 1] = FIELD_REDRIVES
  out[#out + 1] = tostring(redrives + 1)
  return out
end

-- Attempts carried by an entry of a retry stream; what Omnibus would not have written counts as 0.
local function carried_attempt(fields)
  local carried = 0
  for i = 1, #fields, 2 do
    if fields[i] == FIELD_ATTEMPTS then
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
