// Every call against a broker that can't be used fails within operationTimeoutMs, typed, and says why.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { type Bus, connect, OmnibusError } from '@omnibus/core';
import { listening } from '@omnibus/test-brokers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUrl, rabbitmq } from './index.js';
import {
  AMQP_URL,
  freePort,
  rejectionOf,
  sharedBroker,
  testPrefix,
} from './testing/broker-fixture.js';

/** Slack over operationTimeoutMs the conformance suite allows too. */
const SLACK_MS = 1_500;
const BOUND_MS = 2_000;

/** The first call a user makes (a send), with how long it took to settle. */
async function firstSend(url: string): Promise<{ error: OmnibusError; elapsedMs: number }> {
  const bus = await connect(rabbitmq({ url, operationTimeoutMs: BOUND_MS }), {
    prefix: testPrefix(),
  });
  try {
    const startedAt = Date.now();
    const error = await rejectionOf(bus.producer<string>('orders').send('hello'));
    const elapsedMs = Date.now() - startedAt;
    expect(OmnibusError.isInstance(error), String(error)).toBe(true);
    return { error: error as OmnibusError, elapsedMs };
  } finally {
    await bus.close();
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

describe('bounded failure', () => {
  const sockets = new Set<Socket>();
  /** Accepts TCP connections and never answers (as Redis does to an AMQP header). */
  const silent = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const http = createHttpServer((_request, response) => response.end('not AMQP'));
  let silentPort = 0;
  let httpPort = 0;
  beforeAll(async () => {
    silentPort = await listen(silent);
    httpPort = await listen(http);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([
      new Promise((resolve) => silent.close(resolve)),
      new Promise((resolve) => http.close(resolve)),
    ]);
  });

  it('exposes operationTimeoutMs, from the option and from the URL parameter', () => {
    expect(rabbitmq({}).operationTimeoutMs).toBe(15_000);
    expect(rabbitmq({ operationTimeoutMs: 2_500 }).operationTimeoutMs).toBe(2_500);
    const driver = fromUrl(new URL('amqp://guest:guest@127.0.0.1:5672?operationTimeoutMs=2500'));
    expect((driver as { operationTimeoutMs?: number }).operationTimeoutMs).toBe(2_500);
    for (const bad of ['0', '-5', 'soon', '']) {
      let failure: unknown;
      try {
        fromUrl(new URL(`amqp://guest:s3cret@127.0.0.1:5672?operationTimeoutMs=${bad}`));
      } catch (error) {
        failure = error;
      }
      expect((failure as OmnibusError | undefined)?.code, bad).toBe('Config');
      expect(String((failure as Error).message)).not.toContain('s3cret');
    }
  });

  it.each([
    ['operationTimeoutMS=1000', 'did you mean "operationTimeoutMs"'],
    ['frameMAX=4096', 'did you mean "frameMax"'],
    ['connectionTimeout=1000', 'is not known; known: operationTimeoutMs, heartbeat'],
  ])(
    'a misspelt or unknown URL parameter (%s) is Config, never silently ignored',
    (query, says) => {
      let failure: unknown;
      try {
        fromUrl(new URL(`amqp://guest:s3cret@127.0.0.1:5672?${query}`));
      } catch (error) {
        failure = error;
      }
      expect((failure as OmnibusError | undefined)?.code).toBe('Config');
      expect((failure as Error).message).toContain(says);
      expect((failure as Error).message).not.toContain('s3cret');
      // amqplib's own parameters stay accepted.
      fromUrl(
        new URL(
          'amqp://guest:guest@127.0.0.1:5672?heartbeat=5&frameMax=8192&channelMax=9&locale=en_US',
        ),
      );
    },
  );

  it('an amqp:// URL at an HTTP port fails Config within the bound, not retryable, naming HTTP', async () => {
    const { error, elapsedMs } = await firstSend(`amqp://guest:guest@127.0.0.1:${httpPort}`);
    expect(error.code, error.message).toBe('Config');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`127.0.0.1:${httpPort}`);
    expect(error.message).toMatch(/did not answer in AMQP 0-9-1: it answered in HTTP/);
    expect(elapsedMs).toBeLessThan(BOUND_MS + SLACK_MS);
  });

  it('an amqp:// URL at a port that accepts and stays silent fails Config within the bound', async () => {
    const { error, elapsedMs } = await firstSend(`amqp://guest:guest@127.0.0.1:${silentPort}`);
    expect(error.code, error.message).toBe('Config');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/did not answer the AMQP 0-9-1 handshake/);
    expect(elapsedMs).toBeLessThan(BOUND_MS + SLACK_MS);
  });

  it('an amqp:// URL at the Redis port fails Config within the bound, naming the Redis protocol', async (context) => {
    const redisPort = Number(process.env.REDIS_PORT ?? 6379);
    const open = await listening(redisPort);
    if (!open) {
      if (process.env.OMNIBUS_REQUIRE_BROKERS === '1')
        throw new Error(
          `OMNIBUS_REQUIRE_BROKERS=1 but nothing listens on 127.0.0.1:${redisPort} (Redis)`,
        );
      context.skip(`nothing listens on 127.0.0.1:${redisPort} (Redis)`);
    }
    const { error, elapsedMs } = await firstSend(`amqp://guest:guest@127.0.0.1:${redisPort}`);
    expect(error.code, error.message).toBe('Config');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/Redis protocol \(RESP/);
    expect(elapsedMs).toBeLessThan(BOUND_MS + SLACK_MS);
  });

  it('nothing listening: Unavailable, retryable, within the bound', async () => {
    const port = await freePort();
    const { error, elapsedMs } = await firstSend(`amqp://guest:guest@127.0.0.1:${port}`);
    expect(error.code, error.message).toBe('Unavailable');
    expect(error.retryable).toBe(true);
    expect(elapsedMs).toBeLessThan(BOUND_MS + SLACK_MS);
  });

  it.skipIf(sharedBroker !== true)(
    'a missing vhost is PermissionDenied, bad credentials Unauthenticated: neither retryable, no secret in the error',
    async () => {
      const missingVhost = new URL(AMQP_URL);
      missingVhost.pathname = `/omnibus-missing-${testPrefix()}`;
      let bus: Bus = await connect(fromUrl(missingVhost), { prefix: testPrefix() });
      try {
        const error = (await rejectionOf(bus.producer('orders').send('x'))) as OmnibusError;
        expect(error.code, error.message).toBe('PermissionDenied');
        expect(error.retryable).toBe(false);
        expect(error.message).toMatch(/virtual host/);
      } finally {
        await bus.close();
      }
      const wrongPassword = new URL(AMQP_URL);
      wrongPassword.password = 'n0t-the-password';
      bus = await connect(fromUrl(wrongPassword), { prefix: testPrefix() });
      try {
        const error = (await rejectionOf(bus.producer('orders').send('x'))) as OmnibusError;
        expect(error.code, error.message).toBe('Unauthenticated');
        expect(error.retryable).toBe(false);
        expect(JSON.stringify({ m: error.message, s: error.stack })).not.toContain(
          'n0t-the-password',
        );
      } finally {
        await bus.close();
      }
    },
  );
});
