/** A loopback TCP server that answers like an AMQP broker does to a client of another protocol. */
import { createServer, type Server } from 'node:net';

/** AMQP 0-9-1's protocol header: what RabbitMQ sends back to bytes that are not AMQP, then it hangs up. */
const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

export interface AmqpLookalike {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the server on a free port. It behaves as RabbitMQ's port 5672 does for a Redis client
 * (protocol header, then close), without touching the machine's shared RabbitMQ.
 */
export async function startAmqpLookalike(): Promise<AmqpLookalike> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(AMQP_HEADER));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
