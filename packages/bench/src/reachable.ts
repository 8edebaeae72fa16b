import { connect } from 'node:net';

/**
 * Resolves `true` if a TCP connection to `host:port` opens within `timeoutMs`, else the reason.
 * Meant for {@link BenchModule.available}: `available: () => reachable('127.0.0.1', 6379)`.
 */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: true | string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done(`${host}:${port} did not answer within ${timeoutMs} ms`),
    );
    socket.once('connect', () => done(true));
    socket.once('error', (error) => done(`${host}:${port} unreachable (${error.message})`));
  });
}
