// The DEAD_LETTER script: one delivery into the DLQ stream with its reason, acked in the same step.
import { defineScript, runScript, type ScriptClient } from './script.js';

/** Moves one delivery to the DLQ stream with its reason and attempts, and acknowledges it, atomically. */
const DEAD_LETTER = defineScript(
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

export interface DeadLetterEntryRequest {
  readonly group: string;
  readonly consumer: string;
  readonly id: string;
  readonly deliveries: number;
  /** Stored verbatim. */
  readonly reason: string;
  readonly attempts: number;
  readonly topic: string;
  readonly subscription: string;
  readonly maxLength: number;
}

/** True if moved, false if this consumer no longer held it. */
export async function deadLetterEntry(
  client: ScriptClient,
  keys: { readonly source: string; readonly deadLetters: string },
  request: DeadLetterEntryRequest,
): Promise<boolean> {
  const reply = await runScript(
    client,
    DEAD_LETTER,
    [keys.source, keys.deadLetters],
    [
      request.group,
      request.consumer,
      request.id,
      request.deliveries,
      request.reason,
      request.attempts,
      request.topic,
      request.subscription,
      request.maxLength,
    ],
  );
  return Number(reply) === 1;
}
