// The PUBLISH script: a batch of entries XADDed (or scheduled, with a delay) in one round trip.
import { defineScript, runScript, type ScriptClient } from './script.js';

/**
 * Each message is XADDed to the topic stream, or, with a delay, put in the topic's scheduled set
 * scored by its due time on the server's clock. One script call per batch costs the client far less
 * than one XADD per message (ioredis builds a command object per call), which is most of the
 * publish cost.
 */
const PUBLISH = defineScript(
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

/** One entry to publish. */
export interface PublishEntry {
  /** 0: now; otherwise into the scheduled set. */
  readonly delayMs: number;
  /** Keeps identical scheduled members distinct. */
  readonly nonce: string;
  /** Stream entry fields, name and value alternating. */
  readonly fields: readonly (string | Buffer)[];
}

/** Returns how many were published. */
export async function publishEntries(
  client: ScriptClient,
  keys: { readonly stream: string; readonly delayed: string },
  request: { readonly maxLength: number; readonly entries: readonly PublishEntry[] },
): Promise<number> {
  const args: (string | number | Buffer)[] = [request.maxLength];
  for (const entry of request.entries) {
    args.push(entry.delayMs > 0 ? Math.ceil(entry.delayMs) : 0, entry.nonce, entry.fields.length);
    for (const field of entry.fields) args.push(field);
  }
  return Number(await runScript(client, PUBLISH, [keys.stream, keys.delayed], args));
}
