/** Calls against a Redis that is down, not Redis at all, or refusing the credentials fail fast, typed and bounded. */

import { inspect } from 'node:util';
import { connect, type OmnibusError } from '@omnibus/core';
import type { DriverV2, SubscriptionSpec } from '@omnibus/core/driver';
import { freePorts, listening } from '@omnibus/test-brokers';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fromUrl, redis } from './index.js';
import { startAmqpLookalike } from './test-support/amqp-lookalike.js';
import { REDIS_URL, redisUnavailable } from './test-support/redis-server.js';

const SLACK_MS = 1_500;

/** Runs `action`, which must reject; returns the error and how long it took. */
async function failure(action: () => Promise<unknown>): Promise<{ error: unknown; took: number }> {
  const started = Date.now();
  try {
    await action();
  } catch (error) {
    return { error, took: Date.now() - started };
  }
  throw new Error('expected a rejection');
}

const spec: SubscriptionSpec = {
  topic: 'bounded-topic',
  subscription: 'bounded-sub',
  maxAttempts: 5,
  deadLetter: true,
  ackDeadlineMs: 30_000,
  ordering: false,
};

describe('a Redis that is down', () => {
  const drivers: DriverV2[] = [];
  afterAll(async () => {
    await Promise.allSettled(drivers.map((driver) => driver.close()));
  });

  it('fails each single driver call on its own, retryable Unavailable or Timeout, within operationTimeoutMs', async () => {
    const [port] = await freePorts(1);
    const operationTimeoutMs = 1_500;
    const driver = redis({ url: `redis://127.0.0.1:${port}`, operationTimeoutMs });
    drivers.push(driver);
    expect(driver.operationTimeoutMs).toBe(operationTimeoutMs);
    const calls: [string, () => Promise<unknown>][] = [
      [
        'publish',
        () =>
          driver.publish('bounded-topic', [
            {
              id: 'm1',
              body: new Uint8Array([49]),
              attributes: {},
              contentType: 'application/json',
              publishedAt: Date.now(),
            },
          ]),
      ],
      ['ensureSubscription', () => driver.ensureSubscription(spec)],
      ['stats', () => driver.stats(spec)],
      ['countDeadLetters', () => driver.countDeadLetters(spec)],
    ];
    for (const [name, call] of calls) {
      const { error, took } = await failure(call);
      const verdict = driver.classifyError?.(error);
      expect(verdict?.code, `${name}: ${(error as Error).message}`).toMatch(
        /^(Unavailable|Timeout)$/,
      );
      expect(verdict?.retryable).toBe(true);
      expect(took, `${name} took ${took} ms`).toBeLessThan(operationTimeoutMs);
    }
  });

  it('a send through core rejects Unavailable or Timeout within operationTimeoutMs (URL parameter)', async () => {
    const [port] = await freePorts(1);
    const bus = await connect(`redis://127.0.0.1:${port}?operationTimeoutMs=2000`, {
      prefix: 'bounded-',
    });
    try {
      const { error, took } = await failure(() => bus.producer('orders').send('x'));
      expect((error as OmnibusError).code).toMatch(/^(Unavailable|Timeout)$/);
      expect((error as OmnibusError).retryable).toBe(true);
      expect(took).toBeLessThan(2_000 + SLACK_MS);
    } finally {
      await bus.close();
    }
  });
});

describe('a Redis that cannot be reached says why', () => {
  it.each([
    ['a refused port', async () => `127.0.0.1:${(await freePorts(1))[0]}`, /ECONNREFUSED/],
    [
      'a host that does not resolve',
      async () => 'no-such-host.invalid:6379',
      /ENOTFOUND|EAI_AGAIN/,
    ],
  ])(
    '%s: a send fails Unavailable, retryable, naming the connection error, within operationTimeoutMs',
    async (_, where, names) => {
      const bus = await connect(
        fromUrl(new URL(`redis://${await where()}?operationTimeoutMs=2000`)),
        {
          prefix: 'unreachable-',
        },
      );
      try {
        const { error, took } = await failure(() => bus.producer('orders').send('x'));
        expect((error as OmnibusError).code, (error as Error).message).toBe('Unavailable');
        expect((error as OmnibusError).retryable).toBe(true);
        expect((error as Error).message).toMatch(names);
        expect((error as Error).message).not.toMatch(
          /maxRetriesPerRequest|no answer from the broker/,
        );
        expect(took).toBeLessThan(2_000 + SLACK_MS);
      } finally {
        await bus.close();
      }
    },
  );

  it('no message names ioredis options', () => {
    const error = Object.assign(
      new Error(
        'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      ),
      { name: 'MaxRetriesPerRequestError' },
    );
    Object.defineProperty(error, 'constructor', { value: { name: 'MaxRetriesPerRequestError' } });
    const verdict = redis({}).classifyError?.(error);
    expect(verdict?.code).toBe('Unavailable');
    expect(verdict?.message).not.toContain('maxRetriesPerRequest');
  });
});

describe('an endpoint that is not Redis', () => {
  it('a redis:// URL at an AMQP-speaking port fails with Config, not retryable, naming the mismatch', async () => {
    const lookalike = await startAmqpLookalike();
    const bus = await connect(redis({ url: `redis://127.0.0.1:${lookalike.port}` }), {
      prefix: 'wrong-',
    });
    try {
      const { error, took } = await failure(() => bus.producer('orders').send('x'));
      expect((error as OmnibusError).code).toBe('Config');
      expect((error as OmnibusError).retryable).toBe(false);
      expect((error as Error).message).toContain(`127.0.0.1:${lookalike.port}`);
      expect((error as Error).message).toContain('did not answer in the Redis protocol (RESP)');
      // Not retryable: core gives up at once, long before the default 15 s bound.
      expect(took).toBeLessThan(5_000);
    } finally {
      await bus.close();
      await lookalike.close();
    }
  });

  it('the same against the RabbitMQ port 127.0.0.1:5672, when a RabbitMQ listens there', async (context) => {
    if (!(await listening(5672))) {
      if (process.env.OMNIBUS_REQUIRE_BROKERS === '1')
        throw new Error('OMNIBUS_REQUIRE_BROKERS=1 but nothing listens on 127.0.0.1:5672');
      context.skip('nothing listens on 127.0.0.1:5672');
    }
    const bus = await connect('redis://127.0.0.1:5672?operationTimeoutMs=3000', {
      prefix: 'wrong-',
    });
    try {
      const { error } = await failure(() => bus.producer('orders').send('x'));
      expect((error as OmnibusError).code).toBe('Config');
      expect((error as OmnibusError).retryable).toBe(false);
      expect((error as Error).message).toContain(
        '127.0.0.1:5672 did not answer in the Redis protocol',
      );
    } finally {
      await bus.close();
    }
  });
});

const noRedis = await redisUnavailable();

describe.skipIf(noRedis !== undefined)('credentials Redis refuses', () => {
  it('fail Unauthenticated, not retryable, at once, and never show the password', async () => {
    const url = new URL(REDIS_URL);
    url.username = 'intruder';
    url.password = 'sup3rsecret';
    const bus = await connect(fromUrl(url), { prefix: 'auth-' });
    try {
      const { error, took } = await failure(() => bus.producer('orders').send('x'));
      expect((error as OmnibusError).code).toBe('Unauthenticated');
      expect((error as OmnibusError).retryable).toBe(false);
      expect(took).toBeLessThan(5_000);
      expect(inspect(error, { depth: 10 })).not.toContain('sup3rsecret');
    } finally {
      await bus.close();
    }
  });
});

describe.skipIf(noRedis !== undefined)('a database number the server does not have', () => {
  it.each([
    ['/99999', () => 99_999],
    ['/<databases>, the first one past the last', (databases: number) => databases],
  ])(
    '%s fails Config, not retryable, within operationTimeoutMs, and nothing lands in db 0',
    async (_, pick) => {
      const admin = new Redis(REDIS_URL);
      const prefix = `bad-db-${process.pid}-${Date.now()}-`;
      try {
        const [, databases] = (await admin.config('GET', 'databases')) as [string, string];
        const url = new URL(REDIS_URL);
        url.pathname = `/${pick(Number(databases))}`;
        url.searchParams.set('operationTimeoutMs', '3000');
        const bus = await connect(fromUrl(url), { prefix });
        try {
          for (const call of [
            () => bus.producer('orders').send('x'),
            () => bus.producer('orders').send('y'),
          ]) {
            const { error, took } = await failure(call);
            expect((error as OmnibusError).code, (error as Error).message).toBe('Config');
            expect((error as OmnibusError).retryable).toBe(false);
            expect((error as Error).message).toContain(
              'database number in the URL is out of range',
            );
            expect(took).toBeLessThan(3_000);
          }
        } finally {
          await bus.close();
        }
      } finally {
        // Before the fix the sends landed in db 0: the test removes its own keys either way.
        const leaked = await admin.keys(`*${prefix}*`);
        if (leaked.length > 0) await admin.del(...leaked);
        await admin.quit();
        expect(leaked).toEqual([]);
      }
    },
  );
});

describe.skipIf(noRedis !== undefined)('rediss:// at a port without TLS', () => {
  it('fails Config, not retryable, naming TLS, within operationTimeoutMs', async () => {
    const url = new URL(REDIS_URL);
    url.protocol = 'rediss:';
    url.searchParams.set('operationTimeoutMs', '3000');
    const bus = await connect(fromUrl(url), { prefix: 'not-tls-' });
    try {
      const { error, took } = await failure(() => bus.producer('orders').send('x'));
      expect((error as OmnibusError).code, (error as Error).message).toBe('Config');
      expect((error as OmnibusError).retryable).toBe(false);
      expect((error as Error).message).toContain('TLS');
      expect((error as Error).message).toContain('rediss://');
      expect(took).toBeLessThan(3_000);
    } finally {
      await bus.close();
    }
  });
});

describe('URLs', () => {
  it.each([
    ['redis:/:pw@host', 'must start with redis://'],
    ['redis:host:6379', 'must start with redis://'],
    ['redis://', 'has no host'],
    ['rediss:///0', 'has no host'],
    ['redis://127.0.0.1:6379/orders', 'database number'],
    ['redis://127.0.0.1:6379?operationTimeoutMs=soon', 'operationTimeoutMs'],
    ['redis://127.0.0.1:6379?operationTimeoutMs=5', 'operationTimeoutMs'],
    ['redis://127.0.0.1:6379/99999999999999999999', 'database number'],
    ['redis://127.0.0.1:6379?operationTimeoutMS=1000', 'did you mean "operationTimeoutMs"'],
    ['redis://127.0.0.1:6379?keyprefix=x', 'did you mean "keyPrefix"'],
    ['redis://127.0.0.1:6379?staleConsumerMs=soon', 'staleConsumerMs'],
  ])('%s is a ConfigError (%s), never the default Redis', (text, says) => {
    let thrown: unknown;
    try {
      fromUrl(new URL(text)).close();
    } catch (error) {
      thrown = error;
    }
    expect((thrown as OmnibusError)?.code).toBe('Config');
    expect((thrown as Error).message).toContain(says);
    expect((thrown as Error).message).not.toContain('pw');
  });

  it('operationTimeoutMs: the URL parameter, the option, or 15000', async () => {
    const fromParameter = fromUrl(new URL('redis://127.0.0.1:6379?operationTimeoutMs=2000'));
    const fromOption = redis({ url: REDIS_URL, operationTimeoutMs: 4_000 });
    const byDefault = redis({ url: REDIS_URL });
    expect(fromParameter.operationTimeoutMs).toBe(2_000);
    expect(fromOption.operationTimeoutMs).toBe(4_000);
    expect(byDefault.operationTimeoutMs).toBe(15_000);
    await Promise.all([fromParameter.close(), fromOption.close(), byDefault.close()]);
    expect(() => redis({ operationTimeoutMs: 99.5 })).toThrow(/operationTimeoutMs/);
  });
});
