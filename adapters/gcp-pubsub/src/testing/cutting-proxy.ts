// A TCP proxy in front of the emulator that can cut every connection and refuse new ones for a while.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface CuttingProxy {
  /** `127.0.0.1:port` to give the driver as `apiEndpoint`. */
  readonly endpoint: string;
  /** Destroys every connection, refuses new ones for `downMs`, then accepts again on the same port. */
  cut(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`host:port`) on a free loopback port. */
export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const [host = '127.0.0.1', port = '8085'] = target.split(':');
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const listen = (server: Server, onPort: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => resolve());
    });
  const newServer = () =>
    createServer((client) => {
      const upstream = tcpConnect(Number(port), host);
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  let server = newServer();
  await listen(server, 0);
  const address = server.address();
  const proxyPort = typeof address === 'object' && address !== null ? address.port : 0;
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    endpoint: `127.0.0.1:${proxyPort}`,
    async cut(downMs) {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = newServer();
      await listen(server, proxyPort);
    },
    close: stop,
  };
}
