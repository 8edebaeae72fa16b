// The REDELIVER script: a nack or a release, copied into the retry stream (or its schedule) and acked.
import { defineScript, runScript, type ScriptClient } from './script.js';

/**
 * Hands one delivery back to this subscription only: copies the entry into the subscription's
 * retry stream (or its retry schedule, for a delay) with the attempts carried, and acknowledges the
 * original, atomically. Does nothing when the delivery is no longer held by this consumer.
 */
const REDELIVER = defineScript(
  'redeliver',
  `
local group, consumer, id = ARGV[1], ARGV[2], ARGV[3]
local deliveries, delay, attempts = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local nonce, maxlen = ARGV[7], tonumber(ARGV[8])
if not still_held(KEYS[1], group, consumer, id, deliveries) then return 0 end
local fields = entry_fields(KEYS[1], id)
if fields == nil then
  redis.call('XACK', KEYS[1], group, id)
  return 0
end
local out = carry_fields(id, fields)
out[#out + 1] = FIELD_ATTEMPTS
out[#out + 1] = attempts
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

export interface RedeliverKeys {
  /** The stream the delivery came from. */
  readonly source: string;
  readonly retry: string;
  readonly retryDelayed: string;
}

export interface RedeliverRequest {
  readonly group: string;
  readonly consumer: string;
  readonly id: string;
  /** The delivery count when it was handed out; 0 skips the check. */
  readonly deliveries: number;
  readonly delayMs: number;
  /** Attempts that ended before the copy's next delivery (the next read adds one). */
  readonly carriedAttempts: number;
  /** Keeps identical scheduled copies distinct. */
  readonly nonce: string;
  readonly maxLength: number;
}

/** True if handed back, false if this consumer no longer held it (its lease expired). */
export async function redeliver(
  client: ScriptClient,
  keys: RedeliverKeys,
  request: RedeliverRequest,
): Promise<boolean> {
  const reply = await runScript(
    client,
    REDELIVER,
    [keys.source, keys.retry, keys.retryDelayed],
    [
      request.group,
      request.consumer,
      request.id,
      request.deliveries,
      Math.max(0, Math.ceil(request.delayMs)),
      Math.max(0, request.carriedAttempts),
      request.nonce,
      request.maxLength,
    ],
  );
  return Number(reply) === 1;
}
