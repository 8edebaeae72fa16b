import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { runConformanceTests } from '@omnibus/conformance';
import { type Bus, connect, type Message, OmnibusError } from '@omnibus/core';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyError, fromUrl, rabbitmq } from './index.js';
import { delayBucket } from './topology.js';

/*
 * Runs against the real broker (RabbitMQ 3.10 on 127.0.0.1:5672, guest/guest, or AMQP_URL): the
 * conformance suite, restart case included, then what is specific to RabbitMQ. Skipped with the
 * reason when the broker can't be reached, unless OMNIBUS_REQUIRE_BROKERS=1, which fails instead.
 */

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const run = promisify(execFile);

async function probe(): Promise<true | string> {
  try {
    const connection = await amqpConnect(AMQP_URL);
    await connection.close();
    return true;
  } catch (error) {
    return `RabbitMQ is not reachable at ${new URL(AMQP_URL).host}: ${(error as Error).message}`;
  }
}

const reachable = await probe();
/** Fault injection and clean-up need the broker's own CLI, present where the broker runs locally. */
const hasRabbitmqctl =
  reachable === true &&
  (await run('rabbitmqctl', ['version'], { timeout: 30_000 }).then(
    () => true,
    () => false,
  ));
const NO_CLI = 'rabbitmqctl is not available here (needed to inject the fault)';
if (reachable === true && !hasRabbitmqctl && process.env.OMNIBUS_REQUIRE_BROKERS === '1') {
  // Without the CLI the restart case and the fault tests would skip: CI must run them.
  throw new Error(`${NO_CLI} (OMNIBUS_REQUIRE_BROKERS=1)`);
}
if (reachable !== true && process.env.OMNIBUS_REQUIRE_BROKERS === '1') {
  throw new Error(`${reachable} (OMNIBUS_REQUIRE_BROKERS=1)`);
}

/** Every prefix a test used, so what the tests declared can be deleted afterwards. */
const prefixes = new Set<string>();

function testPrefix(): string {
  const prefix = `rt${randomBytes(4).toString('hex')}-`;
  prefixes.add(prefix);
  return prefix;
}

/** Through `fromUrl` from this source tree (`connect(url)` would load the package's built dist). */
async function connectBus(prefix: string): Promise<Bus> {
  prefixes.add(prefix);
  return connect(fromUrl(new URL(AMQP_URL)), { prefix });
}

async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000 });
  return stdout;
}

async function waitForAmqp(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await amqpConnect(AMQP_URL);
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Deletes every queue and exchange whose name starts with one of the tests' prefixes. */
async function deleteTestObjects(): Promise<void> {
  if (prefixes.size === 0) return;
  if (!hasRabbitmqctl) {
    console.warn(
      `rabbitmqctl is not available: queues and exchanges of prefixes ${[...prefixes].join(', ')} were left on the broker`,
    );
    return;
  }
  const ours = (name: string) => [...prefixes].some((prefix) => name.startsWith(prefix));
  const list = async (what: 'list_queues' | 'list_exchanges') =>
    (await rabbitmqctl(what, '--quiet', '--no-table-headers', 'name'))
      .split('\n')
      .map((line) => line.trim())
      .filter(ours);
  const [queues, exchanges] = await Promise.all([list('list_queues'), list('list_exchanges')]);
  const connection = await amqpConnect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

if (reachable !== true) {
  describe('@omnibus/rabbitmq', () => {
    it.skip(`skipped: ${reachable} (set OMNIBUS_REQUIRE_BROKERS=1 to fail instead)`, () =>
      undefined);
  });
} else {
  afterAll(deleteTestObjects, 120_000);

  runConformanceTests({
    name: 'rabbitmq',
    connect: ({ prefix }) => connectBus(prefix),
    // Without rabbitmqctl the suite skips its restart case, naming the missing hook.
    restartBroker: hasRabbitmqctl ? restartBroker : undefined,
  });

  async function restartBroker(): Promise<void> {
    // stop_app/start_app restarts RabbitMQ inside the running Erlang node: every connection
    // drops and the AMQP port closes, like a restart, in about a second instead of six.
    await rabbitmqctl('stop_app');
    await rabbitmqctl('start_app');
    await waitForAmqp(30_000);
  }

  describe('rabbitmq adapter', () => {
    it('survives close_all_connections with sends in flight: each resolves after its confirm or rejects Unavailable, and nothing confirmed is lost', async (context) => {
      if (!hasRabbitmqctl) context.skip(NO_CLI);
      const bus = await connectBus(testPrefix());
      try {
        const consumer = bus.consumer<number>('orders', 'kitchen', {
          concurrency: 20,
          retry: { initialDelayMs: 10, maxDelayMs: 50 },
        });
        await consumer.ready();
        const received = new Set<string>();
        await consumer.start((message) => {
          received.add(message.id);
        });
        const producer = bus.producer<number>('orders');
        const confirmed: string[] = [];
        const failures: OmnibusError[] = [];
        let sequence = 0;
        const sender = async (until: Promise<void>) => {
          let stop = false;
          void until.then(() => {
            stop = true;
          });
          while (!stop) {
            try {
              confirmed.push(await producer.send(sequence++));
            } catch (error) {
              if (!OmnibusError.isInstance(error)) throw error;
              failures.push(error);
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
        };
        const done = deferred();
        const senders = Promise.all([
          sender(done.promise),
          sender(done.promise),
          sender(done.promise),
        ]);
        await waitUntil(() => confirmed.length >= 50, '50 confirmed sends before the fault');
        const atFault = confirmed.length;
        await rabbitmqctl('close_all_connections', 'omnibus reconnection test');
        await waitUntil(
          () => confirmed.length >= atFault + 100,
          '100 more confirmed sends after the fault',
        );
        done.resolve();
        await senders;
        for (const failure of failures) {
          expect(failure.code, failure.message).toBe('Unavailable');
          expect(failure.retryable).toBe(true);
        }
        await waitUntil(
          () => confirmed.every((id) => received.has(id)),
          'every confirmed message to be delivered',
        );
        await consumer.stop();
      } finally {
        await bus.close();
      }
    }, 60_000);

    it('rejects a subscription redeclared with other settings with AlreadyExists naming the argument, and keeps working', async () => {
      const prefix = testPrefix();
      const bus = await connectBus(prefix);
      try {
        await bus.consumer('orders', 'kitchen', { maxAttempts: 3 }).ready();
        // Another bus (another process): a bus remembers what it declared and wouldn't ask again.
        const other = await connectBus(prefix);
        const error = await other
          .consumer('orders', 'kitchen', { maxAttempts: 5 })
          .ready()
          .then(
            () => undefined,
            (failure: unknown) => failure,
          );
        expect(OmnibusError.isInstance(error)).toBe(true);
        const mismatch = error as OmnibusError;
        expect(mismatch.code).toBe('AlreadyExists');
        // RabbitMQ names the first argument that differs; both carry maxAttempts.
        expect(mismatch.message).toMatch(/"x-delivery-limit"|"x-dead-letter-routing-key"/);
        expect(mismatch.message).toContain('maxAttempts');
        expect(mismatch.message).toContain(`${prefix}orders.${prefix}kitchen`);
        // The channel RabbitMQ closed over it is gone; the driver carries on.
        const consumer = bus.consumer<string>('orders', 'kitchen', { maxAttempts: 3 });
        const inbox: string[] = [];
        await consumer.start((message) => {
          inbox.push(message.body);
        });
        await bus.producer<string>('orders').send('still working');
        await waitUntil(() => inbox.includes('still working'), 'a message after the mismatch');
        await other.producer<string>('orders').send('other bus too');
        await waitUntil(
          () => inbox.includes('other bus too'),
          'a message from the bus that saw the mismatch',
        );
        await other.close();
      } finally {
        await bus.close();
      }
    });

    it('interoperates with plain amqplib: no envelope, metadata in properties and headers, both ways', async () => {
      const prefix = testPrefix();
      const bus = await connectBus(prefix);
      let plain: ChannelModel | undefined;
      try {
        const consumer = bus.consumer<{ dish: string }>('orders', 'kitchen');
        await consumer.ready();
        plain = await amqpConnect(AMQP_URL);
        const channel = await plain.createConfirmChannel();
        // A plain consumer of its own, bound to the topic's exchange.
        const { queue } = await channel.assertQueue(`${prefix}plain`, {
          durable: false,
          exclusive: true,
        });
        await channel.bindQueue(queue, `${prefix}orders`, '');
        const plainInbox: { body: string; properties: Record<string, unknown> }[] = [];
        await channel.consume(queue, (message) => {
          if (message === null) return;
          plainInbox.push({
            body: message.content.toString('utf8'),
            properties: message.properties as never,
          });
          channel.ack(message);
        });

        const id = await bus
          .producer<{ dish: string }>('orders')
          .send({ dish: 'soup' }, { attributes: { table: '7' } });
        await waitUntil(
          () => plainInbox.length === 1,
          'the plain consumer to get the Omnibus message',
        );
        const seen = plainInbox[0]!;
        expect(seen.body).toBe('{"dish":"soup"}');
        expect(seen.properties.messageId).toBe(id);
        expect(seen.properties.contentType).toBe('application/json');
        expect(seen.properties.deliveryMode).toBe(2);
        expect(seen.properties.headers).toMatchObject({ table: '7' });

        // A plain publisher without message id or Omnibus headers.
        const omnibusInbox: Message<{ dish: string }>[] = [];
        await consumer.start((message) => {
          omnibusInbox.push(message);
        });
        await new Promise<void>((resolve, reject) =>
          channel.publish(
            `${prefix}orders`,
            '',
            Buffer.from(JSON.stringify({ dish: 'stew' })),
            {
              contentType: 'application/json',
              headers: { table: '9', seats: 4 },
              persistent: true,
            },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
        await waitUntil(
          () => omnibusInbox.some((message) => message.body.dish === 'stew'),
          'the plain message in Omnibus',
        );
        const stew = omnibusInbox.find((message) => message.body.dish === 'stew')!;
        expect(stew.attributes).toEqual({ table: '9', seats: '4' });
        expect(stew.attempt).toBe(1);
        expect(stew.id).toMatch(/^amqp-[0-9a-f]{32}$/);
        expect(
          (stew.native as { properties: { headers: unknown } }).properties.headers,
        ).toMatchObject({ table: '9' });
      } finally {
        await plain?.close();
        await bus.close();
      }
    });

    it('nack with delay parks the message in a per-bucket TTL queue that returns it to this subscription only; delayed publish reaches every subscription', async () => {
      const prefix = testPrefix();
      const bus = await connectBus(prefix);
      try {
        const failing = bus.consumer<string>('orders', 'kitchen', { concurrency: 1 });
        const other = bus.consumer<string>('orders', 'billing', { concurrency: 1 });
        await Promise.all([failing.ready(), other.ready()]);
        const kitchen: Message<string>[] = [];
        const billing: Message<string>[] = [];
        await failing.start(async (message) => {
          kitchen.push(message);
          if (message.attempt === 1 && message.body === 'retry me')
            await message.nack({ delayMs: 300 });
        });
        await other.start((message) => {
          billing.push(message);
        });
        const producer = bus.producer<string>('orders');
        const retried = await producer.send('retry me');
        await waitUntil(
          () => kitchen.filter((message) => message.id === retried).length === 2,
          'the delayed redelivery',
        );
        const [first, second] = kitchen.filter((message) => message.id === retried);
        expect(second!.attempt).toBe(2);
        expect(second!.publishedAt.getTime()).toBe(first!.publishedAt.getTime());
        const delayQueue = `${prefix}orders.${prefix}kitchen.delay.${delayBucket(300, 2)}`;
        expect(await rabbitmqctl('list_queues', '--quiet', '--no-table-headers', 'name')).toContain(
          delayQueue,
        );

        const sentAt = Date.now();
        const delayed = await producer.send('later', { delayMs: 400 });
        await waitUntil(
          () =>
            kitchen.some((message) => message.id === delayed) &&
            billing.some((message) => message.id === delayed),
          'the delayed message in both subscriptions',
        );
        for (const inbox of [kitchen, billing]) {
          const delivery = inbox.find((message) => message.id === delayed)!;
          expect(delivery.attempt).toBe(1);
          expect(delivery.publishedAt.getTime()).toBeLessThan(sentAt + 400);
        }
        // The retry went to the kitchen only; billing saw the original once.
        expect(billing.filter((message) => message.id === retried)).toHaveLength(1);
      } finally {
        await bus.close();
      }
    });

    it('dead-letters natively through x-delivery-limit when consumers keep crashing, with the reason and attempts', async () => {
      const prefix = testPrefix();
      const bus = await connectBus(prefix);
      let plain: ChannelModel | undefined;
      try {
        const maxAttempts = 3;
        const consumer = bus.consumer<string>('orders', 'kitchen', { maxAttempts });
        await consumer.ready();
        const id = await bus.producer<string>('orders').send('crashes consumers');
        // A consumer that dies holding the message, maxAttempts times: only the broker can dead-letter it.
        plain = await amqpConnect(AMQP_URL);
        for (let crash = 0; crash < maxAttempts; crash++) {
          const channel = await plain.createChannel();
          const message = await (async () => {
            for (;;) {
              const got = await channel.get(`${prefix}orders.${prefix}kitchen`, { noAck: false });
              if (got !== false) return got;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          })();
          expect(message.properties.messageId).toBe(id);
          await channel.close();
        }
        const dlq = bus.deadLetters<string>('orders', 'kitchen');
        await waitUntil(async () => (await dlq.count()) === 1, 'the message in the DLQ');
        const [letter] = await dlq.peek();
        expect(letter!.id).toBe(id);
        expect(letter!.body).toBe('crashes consumers');
        expect(letter!.attempts).toBe(maxAttempts);
        expect(letter!.reason).toContain('delivery limit');
      } finally {
        await plain?.close();
        await bus.close();
      }
    });

    it('never puts credentials in errors: a wrong password is Unauthenticated, a closed port Unavailable', async () => {
      const secret = `s3cret-${randomBytes(4).toString('hex')}`;
      const wrong = new URL(AMQP_URL);
      wrong.password = secret;
      const bus = await connect(fromUrl(wrong), { prefix: testPrefix() });
      try {
        const error = await bus
          .consumer('orders', 'kitchen')
          .ready()
          .catch((failure: unknown) => failure);
        expect(OmnibusError.isInstance(error), String(error)).toBe(true);
        expect((error as OmnibusError).code).toBe('Unauthenticated');
        expect((error as OmnibusError).retryable).toBe(false);
        expect(
          JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack }),
        ).not.toContain(secret);
      } finally {
        await bus.close();
      }

      const closedPort = new URL(AMQP_URL);
      closedPort.password = secret;
      closedPort.port = '1';
      const unreachable = await connect(rabbitmq({ url: closedPort }));
      try {
        const error = await unreachable
          .producer('orders')
          .send('nowhere')
          .catch((failure: unknown) => failure);
        expect((error as OmnibusError).code).toBe('Unavailable');
        expect((error as OmnibusError).retryable).toBe(true);
        expect(String((error as Error).message)).not.toContain(secret);
      } finally {
        await unreachable.close();
      }
    });

    it('classifies AMQP reply codes and socket errors through one table', () => {
      const withCode = (message: string, code: number | string) =>
        Object.assign(new Error(message), { code });
      expect(
        classifyError(
          withCode(
            'Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue"',
            404,
          ),
        ),
      ).toEqual({
        code: 'NotFound',
        retryable: false,
      });
      expect(classifyError(withCode('Connection closed: 320 (CONNECTION-FORCED)', 320))).toEqual({
        code: 'Unavailable',
        retryable: true,
      });
      expect(
        classifyError(withCode('connect ECONNREFUSED 127.0.0.1:5672', 'ECONNREFUSED')),
      ).toEqual({ code: 'Unavailable', retryable: true });
      expect(
        classifyError(
          new Error(
            'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
          ),
        ),
      ).toEqual({
        code: 'Unauthenticated',
        retryable: false,
      });
      expect(
        classifyError(withCode('Operation failed: QueueDeclare; 403 (ACCESS-REFUSED)', 403)),
      ).toEqual({ code: 'PermissionDenied', retryable: false });
      expect(classifyError(new Error('channel closed'))).toEqual({
        code: 'Unavailable',
        retryable: true,
      });
      expect(classifyError(new Error('something else'))).toBeUndefined();
    });
  });
}
