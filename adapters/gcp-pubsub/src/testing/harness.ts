// The conformance harness on the shared Pub/Sub emulator, with endpoints that can't be reached or speak another protocol.
import { createServer, type Server } from 'node:net';
import type { ConformanceHarness } from '@omnibus/conformance';
import { type Bus, connect } from '@omnibus/core';
import { freePorts } from '@omnibus/test-brokers';
import { fromUrl, gcpPubSub } from '../index.js';
import type { CuttingProxy } from './cutting-proxy.js';
import { PROJECT_ID } from './emulator.js';

/**
 * How long `restartBroker` refuses connections: longer than the emulator holds an idle pull (1 s),
 * so a pull cut on the client's side has been answered on the emulator's before anything new is
 * sent (the emulator ignores cancellation and would hand a new message to a dead pull).
 */
const OUTAGE_MS = 1_500;

/** A TCP server that answers every connection like Redis does to a stranger, then hangs up. */
async function startWrongProtocolServer(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('-ERR unknown command\r\n');
    // The gRPC client may keep retrying its channel: don't let a half-open socket hold close().
    socket.destroySoon();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The harness, and `closeAll` for what it started. */
export function pubsubHarness(
  proxy: CuttingProxy,
): ConformanceHarness & { closeAll(): Promise<void> } {
  // Every bus reaches the emulator through the proxy, so `restartBroker` can cut them all. A pull
  // deadline of 1.5 s: the emulator answers an idle pull 1 s before its deadline, so closing a bus
  // (every test closes several) waits at most 0.5 s for it.
  const options = { projectId: PROJECT_ID, apiEndpoint: proxy.endpoint, pullTimeoutMs: 1_500 };
  const buses = new Set<Bus>();
  let wrongProtocol: Server | undefined;
  const connectUrl = async (endpoint: string, prefix: string, operationTimeoutMs: number) => {
    const url = new URL(
      `gcppubsub://${PROJECT_ID}?apiEndpoint=${endpoint}&operationTimeoutMs=${operationTimeoutMs}`,
    );
    const bus = await connect(fromUrl(url), { prefix });
    buses.add(bus);
    return bus;
  };
  return {
    name: 'gcp-pubsub',
    knownGaps: {
      'a failing message holds back the later messages of its key, not those of other keys':
        'the Pub/Sub emulator redelivers the later messages of a key out of order after a nack and releases of the same key (INFRA.md: "ordering-after-nack bug"); the service keeps their order',
    },
    connect: ({ prefix }) => connect(gcpPubSub(options), { prefix }),
    driver: async () => gcpPubSub(options),
    // Pub/Sub never restarts empty, and the emulator would: an outage is every connection cut
    // and refused for a while, which is what a client of the real service can meet.
    restartBroker: () => proxy.cut(OUTAGE_MS),
    async connectUnreachable({ prefix, operationTimeoutMs }) {
      const [port] = await freePorts(1);
      return connectUrl(`127.0.0.1:${port}`, prefix, operationTimeoutMs);
    },
    async connectWrongProtocol({ prefix, operationTimeoutMs }) {
      wrongProtocol ??= await startWrongProtocolServer();
      const address = wrongProtocol.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      return connectUrl(`127.0.0.1:${port}`, prefix, operationTimeoutMs);
    },
    async closeAll() {
      await Promise.allSettled([...buses].map((bus) => bus.close()));
      buses.clear();
      if (wrongProtocol !== undefined) {
        const server = wrongProtocol;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.unref();
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      }
    },
  };
}
