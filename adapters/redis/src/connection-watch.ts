// Settles commands ioredis drops when a connection closes with resending off.
import type { Cluster, Redis } from 'ioredis';

const CLOSED = 'Connection is closed.';

/**
 * With `autoResendUnfulfilledCommands: false`, ioredis drops the commands that were on the wire
 * when a connection closed: their promises never settle. (Resending instead could XADD a message
 * twice.) A watch settles them itself: every command it runs fails with ioredis's own "Connection is
 * closed." error (retryable `Unavailable`) when the connection closes before the reply arrived.
 */
export interface ConnectionWatch {
  run<T>(command: Promise<T>): Promise<T>;
}

const PASS_THROUGH: ConnectionWatch = { run: (command) => command };

const watches = new WeakMap<object, ConnectionWatch>();

export function watchConnection(client: Redis | Cluster): ConnectionWatch {
  const existing = watches.get(client);
  if (existing !== undefined) return existing;
  const options = (client as { options?: { autoResendUnfulfilledCommands?: boolean } }).options;
  const isCluster = (client as { isCluster?: boolean }).isCluster === true;
  // Clusters resend through their own redirection logic; a standalone client with resend on never drops.
  const watch =
    isCluster || options?.autoResendUnfulfilledCommands !== false
      ? PASS_THROUGH
      : createWatch(client as Redis);
  watches.set(client, watch);
  return watch;
}

function createWatch(client: Redis): ConnectionWatch {
  // Commands sent while the connection is not ready wait in ioredis's offline queue and are written
  // on the next connect: they are only at risk (and only failed) once written.
  const written = new Set<(error: Error) => void>();
  const queued = new Set<(error: Error) => void>();
  client.on('ready', () => {
    for (const fail of queued) written.add(fail);
    queued.clear();
  });
  client.on('close', () => {
    const failures = [...written];
    written.clear();
    for (const fail of failures) fail(new Error(CLOSED));
  });
  return {
    run<T>(command: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const set = client.status === 'ready' ? written : queued;
        set.add(reject);
        const forget = () => {
          written.delete(reject);
          queued.delete(reject);
        };
        command.then(
          (value) => {
            forget();
            resolve(value);
          },
          (error: unknown) => {
            forget();
            reject(error);
          },
        );
      });
    },
  };
}
