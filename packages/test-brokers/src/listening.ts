// Whether anything accepts TCP connections on a loopback port: for tests that need a broker's port, or a free one.
import { createConnection } from 'node:net';

/** Resolves true when a TCP connect to 127.0.0.1:`port` succeeds, false when it is refused or fails. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
