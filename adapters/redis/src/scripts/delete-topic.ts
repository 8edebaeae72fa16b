// The DELETE_TOPIC script: a topic's stream, scheduled set and registry, refused while subscriptions exist.
import { defineScript, runScript, type ScriptClient, text } from './script.js';

/**
 * Deletes the topic stream, its scheduled set and its subscription registry, unless a subscription
 * still lives on it: a consumer group on the stream, or a registry row (a subscription whose group
 * the server lost). Replies `{1|0, names…}`: `1` and the subscriptions' names when refused (nothing
 * deleted), `0` and `'1'` / `'0'` for whether anything existed otherwise.
 */
const DELETE_TOPIC = defineScript(
  'delete-topic',
  `
local names, seen = {}, {}
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if ok then
  for _, info in ipairs(groups) do
    for i = 1, #info, 2 do
      if info[i] == 'name' and not seen[info[i + 1]] then
        seen[info[i + 1]] = true
        names[#names + 1] = info[i + 1]
      end
    end
  end
end
local registry = redis.call('HKEYS', KEYS[3])
for _, name in ipairs(registry) do
  if string.sub(name, 1, 1) ~= '~' and not seen[name] then
    seen[name] = true
    names[#names + 1] = name
  end
end
if #names > 0 then return { 1, unpack(names) } end
if redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) > 0 then return { 0, '1' } end
return { 0, '0' }
`,
);

/** What {@link deleteTopicKeys} did. */
export type DeleteTopicOutcome =
  | { readonly refused: true; readonly subscriptions: readonly string[] }
  | { readonly refused: false; readonly existed: boolean };

export async function deleteTopicKeys(
  client: ScriptClient,
  keys: { readonly stream: string; readonly delayed: string; readonly subscriptions: string },
): Promise<DeleteTopicOutcome> {
  const reply = (await runScript(
    client,
    DELETE_TOPIC,
    [keys.stream, keys.delayed, keys.subscriptions],
    [],
  )) as unknown[];
  if (Number(reply[0]) === 1) return { refused: true, subscriptions: reply.slice(1).map(text) };
  return { refused: false, existed: text(reply[1]) === '1' };
}
