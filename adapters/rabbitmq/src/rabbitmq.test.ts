// The conformance suite (restart case on a private node) and what is specific to RabbitMQ, on the shared broker.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { runConformanceTests } from '@omnibus/conformance';
import { type ConsumerOptions, connect, type Message, OmnibusError } from '@omnibus/core';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deadLetterExchange,
  deadLetterQueue,
  deadLetterRoutingKey,
  subscriptionDelayQueue,
  subscriptionQueue,
  topicDelayQueue,
} from './broker-names.js';
import { describeMismatch } from './classify-error.js';
import { delayBucket } from './delay-queues.js';
import { classifyError, fromUrl, rabbitmq } from './index.js';
import { PendingDeadLetters } from './pending-dead-letters.js';
import { DELIVERY_LIMIT_MARGIN, subscriptionQueueArguments } from './queue-arguments.js';
import {
  AMQP_URL,
  connectBus,
  deferred,
  deleteSharedTestObjects,
  freePort,
  type PrivateRabbitMQ,
  privateNodes,
  registerSharedPrefix,
  rejectionOf,
  sharedBroker,
  startPrivateRabbitMQ,
  testPrefix,
  waitUntil,
} from './testing/broker-fixture.js';

/*
 * The conformance suite, restart case included, on a private RabbitMQ node of this file's own
 * (the restart hook stops and starts that node only); then what is specific to RabbitMQ, on the
 * shared broker (127.0.0.1:5672 or AMQP_URL), touching only objects under this run's prefixes.
 * Skipped with the reason when a broker is missing, unless OMNIBUS_REQUIRE_BROKERS=1.
 */

const node: PrivateRabbitMQ | undefined =
  privateNodes === true ? await startPrivateRabbitMQ() : undefined;
afterAll(async () => {
  await node?.stop();
}, 60_000);

/** An endpoint that answers in another protocol (HTTP), for the wrong-protocol case. */
const http = createHttpServer((_request, response) => response.end('not AMQP'));
const httpPort = await new Promise<number>((resolve) =>
  http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)),
);
afterAll(() => new Promise((resolve) => http.close(resolve)));

/** The hooks every adapter can offer for bounded failure (contract D). */
const boundedFailureHooks = {
  connectUnreachable: async (options: { prefix: string; operationTimeoutMs: number }) =>
    connect(
      rabbitmq({
        url: `amqp://guest:guest@127.0.0.1:${await freePort()}`,
        operationTimeoutMs: options.operationTimeoutMs,
      }),
      { prefix: options.prefix },
    ),
  connectWrongProtocol: async (options: { prefix: string; operationTimeoutMs: number }) =>
    connect(
      rabbitmq({
        url: `amqp://guest:guest@127.0.0.1:${httpPort}`,
        operationTimeoutMs: options.operationTimeoutMs,
      }),
      { prefix: options.prefix },
    ),
};

if (node !== undefined) {
  const harness = {
    name: 'rabbitmq',
    connect: ({ prefix }: { prefix: string }) => connectBus(prefix, node.url),
    // The driver itself, for the contract checks (a stale delivery tag, release, abort, close).
    driver: async () => rabbitmq({ url: node.url }),
    restartBroker: () => node.restart(),
    ...boundedFailureHooks,
  };
  runConformanceTests(harness);
} else if (sharedBroker === true) {
  // No private node here: the suite runs on the shared broker and skips its restart case, naming the hook.
  const harness = {
    name: 'rabbitmq',
    connect: ({ prefix }: { prefix: string }) => connectBus(prefix),
    driver: async ({ prefix }: { prefix: string }) => {
      registerSharedPrefix(prefix);
      return rabbitmq({ url: AMQP_URL });
    },
    ...boundedFailureHooks,
  };
  runConformanceTests(harness);
}

if (sharedBroker !== true) {
  describe('@omnibus/rabbitmq', () => {
    it.skip(`skipped: ${sharedBroker} (set OMNIBUS_REQUIRE_BROKERS=1 to fail instead)`, () =>
      undefined);
  });
} else {
  afterAll(deleteSharedTestObjects, 120_000);

  /** A passive declare on a connection of the test's own (a 404 closes the channel it ran on). */
  const queueExists = async (queue: string): Promise<boolean> => {
    const connection = await amqpConnect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      return await channel.checkQueue(queue).then(
        () => true,
        () => false,
      );
    } finally {
      await connection.close();
    }
  };

  describe('rabbitmq adapter', () => {
    it('a subscription asked, from another bus, with settings other than its queue has is AlreadyExists naming the setting, in every direction', async () => {
      const table: [ConsumerOptions<unknown>, ConsumerOptions<unknown>, RegExp][] = [
        [{ maxAttempts: 3 }, { maxAttempts: 5 }, /maxAttempts/],
        [{ maxAttempts: 3 }, { deadLetter: false }, /deadLetter/],
        [{ deadLetter: false }, { maxAttempts: 3 }, /deadLetter/],
      ];
      for (const [first, second, setting] of table) {
        const prefix = testPrefix();
        const bus = await connectBus(prefix);
        const other = await connectBus(prefix);
        try {
          await bus.consumer('orders', 'kitchen', first).ready();
          const error = (await rejectionOf(
            other.consumer('orders', 'kitchen', second).ready(),
          )) as OmnibusError;
          const label = `${JSON.stringify(first)} then ${JSON.stringify(second)}`;
          expect(OmnibusError.isInstance(error), `${label}: ${String(error)}`).toBe(true);
          expect(error.code, label).toBe('AlreadyExists');
          expect(error.retryable, label).toBe(false);
          expect(error.message, label).toMatch(setting);
        } finally {
          await other.close();
          await bus.close();
        }
      }
    });

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

    it('a queue declared by 0.1 (x-delivery-limit maxAttempts - 1) fails AlreadyExists saying what it has and what this version declares', async () => {
      const prefix = testPrefix();
      const ref = { topic: `${prefix}orders`, subscription: `${prefix}kitchen` };
      const queue = subscriptionQueue(ref);
      const plain = await amqpConnect(AMQP_URL);
      const bus = await connectBus(prefix);
      try {
        const channel = await plain.createChannel();
        // What @omnibus/rabbitmq 0.1 declared for maxAttempts 3: x-delivery-limit 2.
        await channel.assertQueue(queue, {
          durable: true,
          arguments: {
            ...subscriptionQueueArguments({ ...ref, deadLetter: true, maxAttempts: 3 }),
            'x-delivery-limit': 2,
          },
        });
        const error = (await rejectionOf(
          bus.consumer('orders', 'kitchen', { maxAttempts: 3 }).ready(),
        )) as OmnibusError;
        expect(OmnibusError.isInstance(error), String(error)).toBe(true);
        expect(error.code).toBe('AlreadyExists');
        expect(error.retryable).toBe(false);
        expect(error.message).toContain(`queue "${queue}"`);
        expect(error.message).toContain(
          'declared with x-delivery-limit 2 (maxAttempts 3 as @omnibus/rabbitmq 0.1 declared it',
        );
        expect(error.message).toContain(
          `this consumer declares ${3 + DELIVERY_LIMIT_MARGIN} for maxAttempts 3`,
        );
        expect(error.message).toContain('drain and delete the queue');
      } finally {
        await bus.close();
        const cleanup = await plain.createChannel();
        await cleanup.deleteQueue(queue);
        await plain.close();
      }
    });

    it("explains an x-delivery-limit mismatch from the values in RabbitMQ's reply", () => {
      const reply = (received: string, current: string) =>
        Object.assign(
          new Error(
            `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue 'T.S' in vhost '/': received ${received} but current is ${current}"`,
          ),
          { code: 406 },
        );
      expect(describeMismatch('queue', 'T.S', reply("'13'", "'15'"))).toBe(
        'queue "T.S" already exists with a different "x-delivery-limit" (maxAttempts): it was declared with x-delivery-limit 15 ' +
          '(maxAttempts 16 as @omnibus/rabbitmq 0.1 declared it, or 15 - 10 = 5 as this version declares it); ' +
          'this consumer declares 13 for maxAttempts 3 (maxAttempts + 10). RabbitMQ cannot change the arguments of an existing queue: ' +
          'drain and delete the queue (it is declared again on the next ready()), or use the maxAttempts it was declared with',
      );
      expect(
        describeMismatch('queue', 'T.S', reply("'13'", "the value '2' of type 'byte'")),
      ).toContain(
        'declared with x-delivery-limit 2 (maxAttempts 3 as @omnibus/rabbitmq 0.1 declared it; no maxAttempts gives it in this version)',
      );
      expect(describeMismatch('queue', 'T.S', reply('none', "'13'"))).toContain(
        'this consumer declares none',
      );
      // A reply in another shape keeps the general text.
      expect(
        describeMismatch(
          'queue',
          'T.S',
          new Error("inequivalent arg 'x-delivery-limit' for queue 'T.S'"),
        ),
      ).toContain('already exists with a different "x-delivery-limit" (maxAttempts)');
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
        expect(await queueExists(delayQueue)).toBe(true);

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
        // A consumer that dies holding the message, again and again: only the broker can
        // dead-letter it, and only DELIVERY_LIMIT_MARGIN deliveries after core would have.
        plain = await amqpConnect(AMQP_URL);
        const deliveries = maxAttempts + DELIVERY_LIMIT_MARGIN + 1;
        for (let crash = 0; crash < deliveries; crash++) {
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
        expect(letter!.attempts).toBe(deliveries);
        expect(letter!.reason).toContain('delivery limit');
      } finally {
        await plain?.close();
        await bus.close();
      }
    }, 60_000);

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
      const unreachable = await connect(rabbitmq({ url: closedPort, operationTimeoutMs: 1_000 }));
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

    it('classifies what can never succeed as not retryable, and outages as retryable', () => {
      const withCode = (message: string, code?: number | string) =>
        Object.assign(new Error(message), code === undefined ? {} : { code });
      const table: [Error, string, boolean][] = [
        // A missing vhost: amqplib hides the 530 inside "got <ConnectionClose>".
        [
          withCode('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
          'PermissionDenied',
          false,
        ],
        [
          withCode(
            'Handshake terminated by server: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - vhost x not found"',
          ),
          'PermissionDenied',
          false,
        ],
        [
          withCode(
            'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
          ),
          'Unauthenticated',
          false,
        ],
        [withCode('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), 'Config', false],
        [withCode('Frame size 1345270062 exceeds maxFrameSize 67108864'), 'Config', false],
        [
          new RangeError(
            'Encoded field table (headers or arguments) exceeds the 65536 byte encoding buffer',
          ),
          'MessageTooLarge',
          false,
        ],
        [
          new TypeError("Field 'messageId' is the wrong type; must be a string (up to 255 chars)"),
          'InvalidArgument',
          false,
        ],
        [
          withCode('Channel closed by server: 406 (PRECONDITION-FAILED) with message "x"', 406),
          'InvalidArgument',
          false,
        ],
        [withCode('Connection closed: 311 (CONTENT-TOO-LARGE)', 311), 'MessageTooLarge', false],
        [withCode('Connection closed: 320 (CONNECTION-FORCED)', 320), 'Unavailable', true],
        [withCode('Connection closed: 541 (INTERNAL-ERROR)', 541), 'Unavailable', true],
        [withCode('connect ETIMEDOUT'), 'Unavailable', true],
        [withCode('Socket closed abruptly during opening handshake'), 'Unavailable', true],
        [withCode('read ECONNRESET', 'ECONNRESET'), 'Unavailable', true],
      ];
      for (const [error, code, retryable] of table) {
        expect(classifyError(error), error.message).toMatchObject({ code, retryable });
      }
    });

    it('rejects a message whose headers exceed the negotiated frame size before any I/O: MessageTooLarge, not retryable, the connection stays up', async () => {
      const url = new URL(AMQP_URL);
      url.searchParams.set('frameMax', '4096');
      const bus = await connect(fromUrl(url), { prefix: testPrefix() });
      try {
        const producer = bus.producer<string>('orders');
        await producer.send('small');
        const connectionBefore = (bus.native as { publishConnection: unknown }).publishConnection;
        const attributes: Record<string, string> = {};
        for (let index = 0; index < 8; index++) attributes[`big${index}`] = 'x'.repeat(1000);
        const error = (await rejectionOf(
          producer.send('big headers', { attributes }),
        )) as OmnibusError;
        expect(OmnibusError.isInstance(error), String(error)).toBe(true);
        expect(error.code, error.message).toBe('MessageTooLarge');
        expect(error.retryable).toBe(false);
        expect(error.message).toMatch(/frame size \(frame_max\) of 4096 bytes/);
        await producer.send('small again');
        // The broker never saw the oversized frame, so it never dropped the connection.
        expect((bus.native as { publishConnection: unknown }).publishConnection).toBe(
          connectionBefore,
        );
      } finally {
        await bus.close();
      }
    });

    it('publish reports per entry: a message whose headers exceed the frame fails alone, not retryable, and the rest of the batch is confirmed', async () => {
      const url = new URL(AMQP_URL);
      url.searchParams.set('frameMax', '4096');
      const driver = fromUrl(url);
      const prefix = testPrefix();
      const ref = { topic: `${prefix}orders`, subscription: `${prefix}kitchen` };
      try {
        await driver.ensureSubscription({
          ...ref,
          maxAttempts: 3,
          deadLetter: true,
          ackDeadlineMs: 30_000,
          ordering: false,
        });
        const message = (id: string, attributes: Record<string, string> = {}) => ({
          id,
          body: Buffer.from(JSON.stringify(id)),
          attributes,
          contentType: 'application/json',
          publishedAt: Date.now(),
        });
        const big: Record<string, string> = {};
        for (let index = 0; index < 8; index++) big[`big${index}`] = 'x'.repeat(1000);
        const result = await driver.publish(ref.topic, [
          message('first'),
          message('too-big', big),
          message('third'),
        ]);
        expect(result?.failed.map((entry) => entry.index)).toEqual([1]);
        const error = result!.failed[0]!.error as OmnibusError;
        expect(OmnibusError.isInstance(error)).toBe(true);
        expect(error.code).toBe('MessageTooLarge');
        expect(error.retryable).toBe(false);
        await waitUntil(
          async () => (await driver.stats(ref)).waiting === 2,
          'the two other messages in the queue',
        );
      } finally {
        await driver.close();
      }
    });

    it('derives queue names through brokerName: the readable names queues always had where they fit, within 255 bytes with a hash where not', () => {
      const ref = { topic: 'rt-orders', subscription: 'rt-kitchen' };
      expect(subscriptionQueue(ref)).toBe('rt-orders.rt-kitchen');
      expect(deadLetterQueue(ref)).toBe('rt-orders.rt-kitchen.dlq');
      expect(deadLetterExchange(ref.topic)).toBe('rt-orders.dlx');
      expect(deadLetterRoutingKey(ref, 5)).toBe('rt-orders.rt-kitchen.max-attempts.5');
      expect(subscriptionDelayQueue(ref, 1300)).toBe('rt-orders.rt-kitchen.delay.1300');
      expect(topicDelayQueue(ref.topic, 1300)).toBe('rt-orders.delay.1300');
      const long = { topic: `t${'x'.repeat(200)}`, subscription: `s${'y'.repeat(200)}` };
      const names = [
        subscriptionQueue(long),
        deadLetterQueue(long),
        deadLetterRoutingKey(long, 1000),
        subscriptionDelayQueue(long, 2_147_483_647),
      ];
      for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      expect(subscriptionQueue(long)).toMatch(/^tx+\.sy+\.[0-9a-f]{12}$/);
      expect(subscriptionQueue(long).length).toBeLessThanOrEqual(
        rabbitmq().capabilities.maxNameLength,
      );
      expect(subscriptionQueue({ ...long, subscription: `s${'z'.repeat(200)}` })).not.toBe(
        subscriptionQueue(long),
      );
    });

    it('a DLQ read on the driver waits for its own dead-lettering to that DLQ, and reads again when more started meanwhile', async () => {
      const pending = new PendingDeadLetters();
      const first = deferred();
      void pending.track('q.dlq', first.promise);
      const reads: number[] = [];
      let value = 0;
      const second = deferred();
      const reading = pending.read('q.dlq', async () => {
        reads.push(value);
        // Another dead letter starts while this read is on the wire.
        if (reads.length === 1) void pending.track('q.dlq', second.promise);
        return value;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(reads, 'no read while a dead letter is being written').toEqual([]);
      value = 1;
      first.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      expect(reads).toEqual([1]);
      value = 2;
      second.resolve();
      expect(await reading).toBe(2);
      expect(reads).toEqual([1, 2]);
      expect(await pending.read('other.dlq', async () => 7), 'another DLQ does not wait').toBe(7);
    });

    it('many publishes waiting for a full socket buffer share one drain listener (no MaxListenersExceededWarning)', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => {
        if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning);
      };
      process.on('warning', onWarning);
      const driver = rabbitmq({ url: AMQP_URL });
      const topic = `${testPrefix()}orders`;
      try {
        await driver.ensureTopic({ topic });
        const message = (index: number, size: number) => ({
          id: `m${index}`,
          body: Buffer.alloc(size, 1),
          attributes: {},
          contentType: 'application/octet-stream',
          publishedAt: Date.now(),
        });
        await driver.publish(topic, [message(0, 10)]);
        // Three batches written in one go overflow amqplib's channel buffers (1024 frames each
        // side of a PassThrough); the calls made in the same tick then wait for its drain.
        await Promise.all([
          ...Array.from({ length: 3 }, (_, batch) =>
            driver.publish(
              topic,
              Array.from({ length: 1000 }, (_, index) => message(batch * 1000 + index + 1, 10)),
            ),
          ),
          ...Array.from({ length: 30 }, (_, index) =>
            driver.publish(topic, [message(index + 3001, 10)]),
          ),
        ]);
        // Warnings are emitted on the next tick.
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings.map((warning) => warning.message)).toEqual([]);
      } finally {
        process.off('warning', onWarning);
        await driver.close();
      }
    });
  });
}
