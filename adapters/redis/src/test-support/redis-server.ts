// Helpers for tests on the shared Redis: reachability, key deletion by pattern, killing one's own connections.
import { Cluster, Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRE = process.env.OMNIBUS_REQUIRE_BROKERS === '1';

/**
 * Whether Redis answers at `url`. When it doesn't: the reason to skip with, or a thrown error when
 * OMNIBUS_REQUIRE_BROKERS=1 (CI must not pass by skipping).
 */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const info = await probe.info('server');
    const version = /redis_version:(\d+)\./.exec(info)?.[1];
    if (version !== undefined && Number(version) < 7)
      return `Redis at ${redact(url)} is ${version}.x; @omnibus/redis needs 7.0+`;
    return undefined;
  } catch (error) {
    const reason = `Redis is not reachable at ${redact(url)} (${(error as Error).message}); start it with: redis-server --daemonize yes --port 6379 --save "" --appendonly no`;
    if (REQUIRE) throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
    return reason;
  } finally {
    probe.disconnect();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

type Client = Redis | Cluster;

/** Each standalone node of a client: the client itself, or every master of a cluster. */
export function nodesOf(client: Client): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Deletes every key matching `pattern` on every node (SCAN, never KEYS). */
export async function deleteKeys(client: Client, pattern: string): Promise<number> {
  let deleted = 0;
  for (const node of nodesOf(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) deleted += await node.unlink(key);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Kills the connections whose CLIENT SETNAME is `name`, on every node: what a server restart does to clients. */
export async function killConnections(client: Client, name: string): Promise<number> {
  let killed = 0;
  for (const node of nodesOf(client)) {
    const list = String(await node.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    for (const line of list.split('\n')) {
      const fields = Object.fromEntries(
        line.split(' ').map((pair) => pair.split('=') as [string, string]),
      );
      if (fields.name === name && fields.id !== undefined) {
        killed += Number(await node.client('KILL', 'ID', fields.id).catch(() => 0));
      }
    }
  }
  return killed;
}
