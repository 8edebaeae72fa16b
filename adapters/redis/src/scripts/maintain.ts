// The MAINTAIN script: a consumer's periodic round trip (due schedules, reclaim of expired leases, the backstop).
import { defineScript, runScript, type ScriptClient, text } from './script.js';

/**
 * Move due scheduled messages into their streams, then reclaim entries idle past the lease (their
 * consumer died) with XAUTOCLAIM, reading each one's delivery count from the pending list. The
 * delivery after the last attempt is handed out (core dead-letters it, saying the lease expired);
 * an entry past even that goes to the DLQ here instead, with the reason and attempts the caller
 * passed (core's policy built them: the backstop never fires while core settles). New entries are
 * not read here: a plain XREADGROUP does that, without Lua's cost per entry.
 */
const MAINTAIN = defineScript(
  'maintain',
  `
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local min_idle = tonumber(ARGV[4])
local cursors = { ARGV[5], ARGV[6] }
local max_attempts = tonumber(ARGV[7])
local topic, subscription, maxlen = ARGV[8], ARGV[9], tonumber(ARGV[10])
local backstop_reason, backstop_attempts = ARGV[11], ARGV[12]
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
        -- backstop then records what core would have.
        if max_attempts > 0 and attempt > max_attempts + 1 then
          dead_letter(streams[index], KEYS[5], group, id, fields, backstop_reason, backstop_attempts,
            topic, subscription, maxlen)
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

/** The keys MAINTAIN touches. */
export interface MaintainKeys {
  readonly stream: string;
  readonly retry: string;
  readonly delayed: string;
  readonly retryDelayed: string;
  readonly deadLetters: string;
}

export interface MaintainRequest {
  readonly group: string;
  readonly consumer: string;
  /** Most entries to reclaim. */
  readonly count: number;
  /** The lease: entries idle this long are reclaimed. */
  readonly minIdleMs: number;
  /** Where the reclaim scans of the topic and retry streams continue (`0-0`: from the start). */
  readonly cursors: readonly [string, string];
  /** The subscription's maxAttempts; 0 when it has no DLQ (no backstop). */
  readonly maxAttempts: number;
  /** What the backstop records: core's lease-expiry verdict for the delivery after the last. */
  readonly backstop: { readonly reason: string; readonly attempts: number };
  readonly topic: string;
  readonly subscription: string;
  readonly maxLength: number;
}

/** An entry MAINTAIN reclaimed for this consumer. */
export interface ReclaimedEntry {
  /** 0: the topic stream, 1: the retry stream. */
  readonly stream: 0 | 1;
  readonly id: string;
  readonly attempt: number;
  /** Its delivery count in the pending list, to spot a stale holder later. */
  readonly deliveries: number;
  readonly fields: Buffer[];
}

export interface MaintainReply {
  /** Where the scans continue; both `0-0` once they wrapped around. */
  readonly cursors: [string, string];
  /** Ms until the next scheduled message falls due; -1 when none is scheduled. */
  readonly nextDueMs: number;
  readonly reclaimed: ReclaimedEntry[];
}

export async function maintain(
  client: ScriptClient,
  keys: MaintainKeys,
  request: MaintainRequest,
): Promise<MaintainReply> {
  const reply = (await runScript(
    client,
    MAINTAIN,
    [keys.stream, keys.retry, keys.delayed, keys.retryDelayed, keys.deadLetters],
    [
      request.group,
      request.consumer,
      request.count,
      request.minIdleMs,
      request.cursors[0],
      request.cursors[1],
      request.maxAttempts,
      request.topic,
      request.subscription,
      request.maxLength,
      request.backstop.reason,
      request.backstop.attempts,
    ],
  )) as unknown[];
  const taken = Number(reply[3]);
  const reclaimed: ReclaimedEntry[] = [];
  let index = 4;
  for (let n = 0; n < taken; n++) {
    const fieldCount = Number(reply[index + 4]);
    const start = index + 5;
    reclaimed.push({
      stream: Number(reply[index]) === 1 ? 1 : 0,
      id: text(reply[index + 1]),
      attempt: Number(reply[index + 2]),
      deliveries: Number(reply[index + 3]),
      fields: reply.slice(start, start + fieldCount) as Buffer[],
    });
    index = start + fieldCount;
  }
  return {
    cursors: [text(reply[0]), text(reply[1])],
    nextDueMs: Number(reply[2]),
    reclaimed,
  };
}
