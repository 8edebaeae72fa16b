// The ENSURE_TOPIC script: an empty stream and the topic's registry, if they don't exist.
import { defineScript, runScript, type ScriptClient } from './script.js';

const ENSURE_TOPIC = defineScript(
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

/** True if the stream was created now. */
export async function ensureTopicStream(
  client: ScriptClient,
  keys: { readonly stream: string; readonly subscriptions: string },
): Promise<boolean> {
  return Number(await runScript(client, ENSURE_TOPIC, [keys.stream, keys.subscriptions], [])) === 1;
}
