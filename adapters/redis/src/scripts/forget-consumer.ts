// The FORGET_CONSUMER script: removes a closed session's consumer from its groups if it holds nothing.
import { defineScript, runScript, type ScriptClient } from './script.js';

/** Deleting a consumer that still holds pending entries would drop them, so such a one stays. */
const FORGET_CONSUMER = defineScript(
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

/** True if the consumer was removed from both groups. */
export async function forgetConsumer(
  client: ScriptClient,
  keys: { readonly stream: string; readonly retry: string },
  request: { readonly group: string; readonly consumer: string },
): Promise<boolean> {
  const reply = await runScript(
    client,
    FORGET_CONSUMER,
    [keys.stream, keys.retry],
    [request.group, request.consumer],
  );
  return Number(reply) === 1;
}
