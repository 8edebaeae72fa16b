// Starts, uses, restarts and stops each private broker, and checks it leaves nothing behind.
import { connect as connectAmqp } from 'amqplib';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { privateBrokerUnavailable, startPrivateRabbitMQ, startPrivateRedis } from './index.js';

function redisClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

async function refused(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return false;
  } catch {
    return true;
  } finally {
    client.disconnect();
  }
}

const noRedis = privateBrokerUnavailable('redis');
const noRabbitMQ = privateBrokerUnavailable('rabbitmq');

describe.skipIf(noRedis)(`startPrivateRedis${noRedis ? ` (skipped: ${noRedis})` : ''}`, () => {
  it('without persistence: a restart on the same port comes back empty, stop frees the port', async () => {
    const broker = await startPrivateRedis();
    try {
      expect(broker.url).toBe(`redis://127.0.0.1:${broker.port}`);
      expect(broker.port).not.toBe(6379);
      const before = redisClient(broker.url);
      await before.set('key', 'value');
      before.disconnect();
      const firstPid = broker.pid;
      await broker.restart();
      expect(broker.pid).not.toBe(firstPid);
      expect(() => process.kill(firstPid, 0)).toThrow();
      const after = redisClient(broker.url);
      expect(await after.get('key')).toBeNull();
      after.disconnect();
    } finally {
      await broker.stop();
    }
    expect(await refused(broker.url)).toBe(true);
    await broker.stop(); // a second stop does nothing
  });

  it('with persistence: every acknowledged write survives a SIGKILL restart', async () => {
    const broker = await startPrivateRedis({ persistent: true });
    try {
      const before = redisClient(broker.url);
      for (let index = 0; index < 100; index += 1) await before.rpush('list', String(index));
      before.disconnect();
      await broker.restart();
      const after = redisClient(broker.url);
      expect(await after.llen('list')).toBe(100);
      after.disconnect();
    } finally {
      await broker.stop();
    }
  });

  it('two brokers started at once get different ports', async () => {
    const [first, second] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
    try {
      expect(first.port).not.toBe(second.port);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});

describe.skipIf(noRabbitMQ)(
  `startPrivateRabbitMQ${noRabbitMQ ? ` (skipped: ${noRabbitMQ})` : ''}`,
  () => {
    it('accepts AMQP, closes its connections, keeps durable quorum messages over a restart, and stops', async () => {
      const broker = await startPrivateRabbitMQ({ consumerTimeoutMs: 60_000 });
      try {
        expect(broker.port).not.toBe(5672);
        expect(broker.nodeName).toMatch(/^omnibus-test-[0-9a-f]+@localhost$/);

        const connection = await connectAmqp(broker.url);
        connection.on('error', () => undefined);
        const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
        const channel = await connection.createConfirmChannel();
        await channel.assertQueue('kept', {
          durable: true,
          arguments: { 'x-queue-type': 'quorum' },
        });
        channel.sendToQueue('kept', Buffer.from('hello'), { persistent: true });
        await channel.waitForConfirms();

        await broker.closeConnections();
        await closed;

        await broker.restart();
        const again = await connectAmqp(broker.url);
        const check = await again.createChannel();
        const message = await check.get('kept', { noAck: true });
        expect(message === false ? false : message.content.toString()).toBe('hello');
        await again.close();
      } finally {
        await broker.stop();
      }
      await expect(connectAmqp(broker.url, { timeout: 2_000 })).rejects.toThrow();
    });
  },
);
