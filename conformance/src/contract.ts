// The driver contract's own rules, checked on the driver (harness.driver) and on a core bus over a spy of it.
import { randomUUID } from 'node:crypto';
import { brokerName, OmnibusError, PORTABLE_RULES } from '@omnibus/core';
import type {
  BatchResult,
  Capabilities,
  DriverSubscription,
  DriverV2,
  OutgoingMessage,
  ReceivedMessage,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import { describe, expect } from 'vitest';
import { consumerOptions, type Inbox, range, type Suite, type TestKit, within } from './helpers.js';

/** How long an aborted `receive` may take to return: "promptly", with slack for a network round trip. */
const PROMPT_MS = 5_000;

/** The settle verbs of a {@link DriverSubscription}, each bounded by `capabilities.batch.settle`. */
type SettleVerb = 'ack' | 'nack' | 'release' | 'extendLease' | 'deadLetter';

/** One call the spy saw. */
interface SpiedCall {
  readonly verb: 'publish' | SettleVerb;
  readonly entries: number;
  /** Bodies plus attribute names and values (publish only): a lower bound of the request's size. */
  readonly bytes: number;
  /** Message ids (publish) or handles (settle verbs) the call carried to the real driver. */
  readonly items: readonly unknown[];
}

/** Overrides of a {@link spyDriver}: each gets the real call to make (or not). */
interface SpyOverrides {
  readonly capabilities?: Capabilities;
  readonly publish?: (
    topic: string,
    messages: readonly OutgoingMessage[],
    real: (messages: readonly OutgoingMessage[]) => Promise<BatchResult | undefined>,
  ) => Promise<BatchResult | undefined>;
  readonly ack?: (
    handles: readonly unknown[],
    real: (handles: readonly unknown[]) => Promise<BatchResult | undefined>,
  ) => Promise<BatchResult | undefined>;
}

function messageBytes(message: OutgoingMessage): number {
  let bytes = message.body.byteLength;
  for (const [name, value] of Object.entries(message.attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return bytes;
}

/**
 * A spy around a real driver: every call goes through to it (unless an override decides
 * otherwise), and what reached the real driver is recorded in `calls`.
 */
function spyDriver(
  driver: DriverV2,
  overrides: SpyOverrides = {},
): { driver: DriverV2; calls: SpiedCall[] } {
  const calls: SpiedCall[] = [];
  const record = (call: SpiedCall) => {
    calls.push(call);
  };

  function spySubscription(session: DriverSubscription): DriverSubscription {
    const settle =
      <R extends { readonly handle: unknown }>(
        verb: SettleVerb,
        real: (r: readonly R[]) => Promise<BatchResult | undefined>,
      ) =>
      (requests: readonly R[]) => {
        record({
          verb,
          entries: requests.length,
          bytes: 0,
          items: requests.map((r) => r.handle),
        });
        return real(requests);
      };
    const realAck = (handles: readonly unknown[]) => {
      record({ verb: 'ack', entries: handles.length, bytes: 0, items: handles });
      return session.ack(handles);
    };
    return {
      receive: (request) => session.receive(request),
      ack: (handles) =>
        overrides.ack === undefined ? realAck(handles) : overrides.ack(handles, realAck),
      nack: settle('nack', (requests) => session.nack(requests)),
      release: settle('release', (requests) => session.release(requests)),
      extendLease: settle('extendLease', (requests) => session.extendLease(requests)),
      deadLetter: settle('deadLetter', (requests) => session.deadLetter(requests)),
      close: () => session.close(),
    };
  }

  const realPublish = (topic: string) => (messages: readonly OutgoingMessage[]) => {
    record({
      verb: 'publish',
      entries: messages.length,
      bytes: messages.reduce((sum, message) => sum + messageBytes(message), 0),
      items: messages.map((message) => message.id),
    });
    return driver.publish(topic, messages);
  };

  const spied: DriverV2 = {
    specificationVersion: driver.specificationVersion,
    name: driver.name,
    capabilities: overrides.capabilities ?? driver.capabilities,
    native: driver.native,
    operationTimeoutMs: driver.operationTimeoutMs,
    testHooks: driver.testHooks,
    ensureTopic: (spec) => driver.ensureTopic(spec),
    ensureSubscription: (spec) => driver.ensureSubscription(spec),
    publish: (topic, messages) =>
      overrides.publish === undefined
        ? realPublish(topic)(messages)
        : overrides.publish(topic, messages, realPublish(topic)),
    subscribe: async (spec, options) => spySubscription(await driver.subscribe(spec, options)),
    stats: (ref) => driver.stats(ref),
    peekDeadLetters: (ref, limit) => driver.peekDeadLetters(ref, limit),
    countDeadLetters: (ref) => driver.countDeadLetters(ref),
    redriveDeadLetters: (ref, limit) => driver.redriveDeadLetters(ref, limit),
    purgeDeadLetters: (ref) => driver.purgeDeadLetters(ref),
    openDeadLetters: (ref, options) => driver.openDeadLetters(ref, options),
    deleteSubscription: (ref) => driver.deleteSubscription(ref),
    deleteTopic: (spec) => driver.deleteTopic(spec),
    classifyError: driver.classifyError?.bind(driver),
    close: () => driver.close(),
  };
  return { driver: spied, calls };
}

/** A retryable failure for one entry of a {@link BatchResult}, as a broker's per-entry error would be. */
function injectedFailure(what: string): OmnibusError {
  return new OmnibusError('Unavailable', `injected by the conformance suite: ${what}`, {
    retryable: true,
  });
}

/** The subscription a driver-level test works on: created through the driver, its session open. */
interface Opened {
  readonly spec: SubscriptionSpec;
  readonly session: DriverSubscription;
}

async function openSubscription(t: TestKit, driver: DriverV2): Promise<Opened> {
  const { minMs, maxMs } = driver.capabilities.ackDeadline;
  const spec: SubscriptionSpec = {
    topic: `${t.prefix}${t.name('topic')}`,
    subscription: `${t.prefix}${t.name('sub')}`,
    maxAttempts: 5,
    deadLetter: true,
    ackDeadlineMs: Math.min(maxMs, Math.max(minMs, 30_000)),
    ordering: driver.capabilities.ordering,
  };
  await driver.ensureTopic({ topic: spec.topic });
  await driver.ensureSubscription(spec);
  const session = await driver.subscribe(spec, { maxOutstanding: 10 });
  t.defer(() => session.close());
  return { spec, session };
}

function outgoing(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: randomUUID(),
    body: Buffer.from(`contract ${randomUUID()}`),
    attributes: {},
    contentType: 'application/octet-stream',
    publishedAt: Date.now(),
    ...overrides,
  };
}

async function publishAll(
  driver: DriverV2,
  topic: string,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  const result = await driver.publish(topic, messages);
  expect(result?.failed ?? [], 'publish reported failed entries').toEqual([]);
}

function expectNoFailures(result: BatchResult | undefined, what: string): void {
  expect(result?.failed ?? [], `${what} reported failed entries`).toEqual([]);
}

/** Receives until one message comes (drivers may return empty after a long poll), within `timeoutMs`. */
async function receiveOne(t: TestKit, session: DriverSubscription): Promise<ReceivedMessage> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), t.timeoutMs);
  try {
    for (;;) {
      if (controller.signal.aborted) {
        throw new Error(`no message received within ${t.timeoutMs} ms`);
      }
      const got = await session.receive({ maxMessages: 1, signal: controller.signal });
      expect(
        got.length,
        'receive({ maxMessages: 1 }) handed out more than one',
      ).toBeLessThanOrEqual(1);
      if (got.length === 1) return got[0]!;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `error` is how a receive may end when its signal was aborted. */
function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Checks the driver contract's own rules: capabilities, batch limits, per-entry results, release, abort, stale handles, close, fidelity, names. */
export function registerContractTests(suite: Suite): void {
  describe('contract', () => {
    suite.test('capabilities are coherent', async (t) => {
      const driver = await t.driver();
      const c = driver.capabilities;
      expect(driver.specificationVersion).toBe('v2');
      expect(c.maxBatchSize, 'maxBatchSize = batch.publish.maxMessages').toBe(
        c.batch.publish.maxMessages,
      );
      for (const [operation, limit] of Object.entries(c.batch)) {
        expect(Number.isInteger(limit.maxMessages), `batch.${operation}.maxMessages`).toBe(true);
        expect(limit.maxMessages, `batch.${operation}.maxMessages`).toBeGreaterThanOrEqual(1);
        if (limit.maxBytes !== undefined)
          expect(limit.maxBytes, `batch.${operation}.maxBytes`).toBeGreaterThan(0);
      }
      if (c.batch.publish.maxBytes !== undefined) {
        expect(
          c.batch.publish.maxBytes,
          'batch.publish.maxBytes must take one message of maxMessageBytes',
        ).toBeGreaterThanOrEqual(c.maxMessageBytes);
      }
      expect(
        c.maxMessageBytes,
        'maxMessageBytes never below the portable 256 KiB',
      ).toBeGreaterThanOrEqual(PORTABLE_RULES.maxMessageBytes);
      expect(c.ackDeadline.minMs, 'ackDeadline contains the portable minimum').toBeLessThanOrEqual(
        PORTABLE_RULES.ackDeadlineMinMs,
      );
      expect(
        c.ackDeadline.maxMs,
        'ackDeadline contains the portable maximum',
      ).toBeGreaterThanOrEqual(PORTABLE_RULES.ackDeadlineMaxMs);
      expect(c.nackDelayMaxMs, 'nackDelayMaxMs').toBeGreaterThanOrEqual(1);
      if (c.delayedDelivery !== false)
        expect(c.delayedDelivery, 'delayedDelivery').toBeGreaterThanOrEqual(1);
      if (c.nativeDeadLetter !== false) {
        const { minAttempts, maxAttempts } = c.nativeDeadLetter;
        expect(
          Number.isInteger(minAttempts) && minAttempts >= 1,
          'nativeDeadLetter.minAttempts',
        ).toBe(true);
        expect(maxAttempts, 'nativeDeadLetter.maxAttempts ≥ minAttempts').toBeGreaterThanOrEqual(
          minAttempts,
        );
      }
      expect(['exact', 'approximate', 'emulated']).toContain(c.attempts);
      expect(typeof c.ackConfirmed).toBe('boolean');
      expect(['non-destructive', 'count-bumping', 'none']).toContain(c.deadLetterAdmin.peek);
      expect(['exact', 'approximate']).toContain(c.deadLetterAdmin.count);
      expect(['native', 'emulated', 'none']).toContain(c.leaseExtension);
      expect(Number.isInteger(c.maxNameLength), 'maxNameLength').toBe(true);
      // brokerName() refuses a length without room for a readable head and its hash.
      const longest = [
        'p'.repeat(PORTABLE_RULES.prefixMaxLength) + 't'.repeat(PORTABLE_RULES.nameMaxLength),
        'p'.repeat(PORTABLE_RULES.prefixMaxLength) + 's'.repeat(PORTABLE_RULES.nameMaxLength),
        'dlq',
      ];
      const derived = brokerName(longest, c.maxNameLength);
      expect(derived.length, 'brokerName() within maxNameLength').toBeLessThanOrEqual(
        c.maxNameLength,
      );
    });

    for (const lowered of [false, true]) {
      suite.test(
        lowered
          ? 'core never passes more than batch.publish / batch.settle entries or bytes to one call (limits lowered to 7 messages or 256 KiB, and 5)'
          : 'core never passes more than batch.publish / batch.settle entries (or bytes) to one call',
        async (t) => {
          const real = await t.driver();
          const declared = real.capabilities;
          const capabilities: Capabilities = lowered
            ? {
                ...declared,
                maxBatchSize: Math.min(7, declared.batch.publish.maxMessages),
                batch: {
                  publish: {
                    maxMessages: Math.min(7, declared.batch.publish.maxMessages),
                    // 7 messages of 40 KiB don't fit: core must split by bytes too.
                    maxBytes: Math.min(
                      declared.batch.publish.maxBytes ?? Number.POSITIVE_INFINITY,
                      PORTABLE_RULES.maxMessageBytes,
                    ),
                  },
                  settle: {
                    ...declared.batch.settle,
                    maxMessages: Math.min(5, declared.batch.settle.maxMessages),
                  },
                },
              }
            : declared;
          const { publish, settle } = capabilities.batch;
          const spy = spyDriver(real, { capabilities });
          const bus = await t.connectDriver(spy.driver);
          const count = Math.min(3 * Math.max(publish.maxMessages, settle.maxMessages), 3_000);
          const topic = t.name('topic');
          const consumer = bus.consumer<{ n: number; pad: string }>(
            topic,
            t.name('sub'),
            consumerOptions({ concurrency: Math.min(count, 1_000) }),
          );
          await consumer.ready();
          const producer = bus.producer<{ n: number; pad: string }>(topic);
          const pad = lowered ? 'x'.repeat(40 * 1024) : '';
          const ids = await Promise.all(range(count).map((n) => producer.send({ n, pad })));
          const inbox = t.inbox<{ n: number; pad: string }>();
          await t.consume(consumer, inbox);
          await inbox.waitForIds(ids);
          await t.waitFor(
            () =>
              spy.calls
                .filter((call) => call.verb === 'ack')
                .reduce((sum, call) => sum + call.entries, 0) >= count,
            'an ack for every message',
          );
          const published = spy.calls.filter((call) => call.verb === 'publish');
          expect(published.reduce((sum, call) => sum + call.entries, 0)).toBeGreaterThanOrEqual(
            count,
          );
          for (const call of spy.calls) {
            const limit = call.verb === 'publish' ? publish : settle;
            const which = call.verb === 'publish' ? 'publish' : 'settle';
            expect(
              call.entries,
              `${call.verb} with more than batch.${which}.maxMessages`,
            ).toBeLessThanOrEqual(limit.maxMessages);
            expect(call.entries, `${call.verb} with no entries`).toBeGreaterThanOrEqual(1);
            if (call.verb === 'publish' && limit.maxBytes !== undefined)
              expect(call.bytes, 'publish over batch.publish.maxBytes').toBeLessThanOrEqual(
                limit.maxBytes,
              );
          }
        },
      );
    }

    suite.test(
      'a publish whose BatchResult fails one entry (retryable) sends exactly that entry again, the others once',
      async (t) => {
        const real = await t.driver();
        const size = Math.min(5, real.capabilities.batch.publish.maxMessages);
        t.requires(size >= 2, 'batch.publish.maxMessages ≥ 2 (a batch to fail one entry of)');
        const failIndex = 1;
        let injected: string | undefined;
        const spy = spyDriver(real, {
          async publish(_topic, messages, realPublish) {
            if (injected !== undefined || messages.length < 2) return realPublish(messages);
            injected = messages[failIndex]!.id;
            const others = messages.filter((_, index) => index !== failIndex);
            const result = await realPublish(others);
            const failed = (result?.failed ?? []).map((entry) => ({
              ...entry,
              index: messages.indexOf(others[entry.index]!),
            }));
            failed.push({ index: failIndex, error: injectedFailure('entry not accepted') });
            return { failed };
          },
        });
        const bus = await t.connectDriver(spy.driver);
        const topic = t.name('topic');
        const consumer = bus.consumer<number>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const producer = bus.producer<number>(topic);
        const ids = await producer.sendBatch(range(size).map((n) => ({ body: n })));
        expect(injected, 'the batch reached the driver in one call').toBe(ids[failIndex]);
        const reached = spy.calls
          .filter((call) => call.verb === 'publish')
          .flatMap((call) => call.items);
        for (const id of ids) {
          expect(
            reached.filter((item) => item === id),
            `entry ${id} reached the broker once`,
          ).toHaveLength(1);
        }
        const retry = spy.calls.filter((call) => call.verb === 'publish').at(-1)!;
        expect(retry.items, 'the retry carries the failed entry alone').toEqual([ids[failIndex]]);
        const inbox = t.inbox<number>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds(ids);
        const sentinel = await producer.send(-1);
        await inbox.waitForIds([sentinel]);
        for (const id of ids) expect(inbox.of(id), `deliveries of ${id}`).toHaveLength(1);
      },
    );

    suite.test(
      'a publish entry failed with a non-retryable error rejects its own send alone, untried again',
      async (t) => {
        const real = await t.driver();
        const doomed = `doomed-${t.prefix}`;
        const offered: string[][] = [];
        const spy = spyDriver(real, {
          async publish(_topic, messages, realPublish) {
            offered.push(messages.map((message) => message.id));
            const index = messages.findIndex((message) => message.id === doomed);
            if (index < 0) return realPublish(messages);
            const others = messages.filter((_, position) => position !== index);
            const result = others.length > 0 ? await realPublish(others) : undefined;
            const failed = (result?.failed ?? []).map((entry) => ({
              ...entry,
              index: messages.indexOf(others[entry.index]!),
            }));
            failed.push({
              index,
              error: new OmnibusError('PermissionDenied', 'injected by the conformance suite', {
                retryable: false,
              }),
            });
            return { failed };
          },
        });
        const bus = await t.connectDriver(spy.driver);
        const topic = t.name('topic');
        const consumer = bus.consumer<number>(topic, t.name('sub'), consumerOptions());
        await consumer.ready();
        const producer = bus.producer<number>(topic);
        const sends = range(4).map((n) => producer.send(n, n === 2 ? { id: doomed } : {}));
        const outcomes = await Promise.allSettled(sends);
        const refused = outcomes[2]!;
        expect(refused.status, 'the send of the failed entry').toBe('rejected');
        expect(OmnibusError.isInstance((refused as PromiseRejectedResult).reason)).toBe(true);
        expect(((refused as PromiseRejectedResult).reason as OmnibusError).code).toBe(
          'PermissionDenied',
        );
        const ids = outcomes
          .filter((outcome, n) => n !== 2 && outcome.status === 'fulfilled')
          .map((outcome) => (outcome as PromiseFulfilledResult<string>).value);
        expect(ids, 'the other sends resolved').toHaveLength(3);
        expect(
          offered.flat().filter((id) => id === doomed),
          'a non-retryable entry is not offered again',
        ).toHaveLength(1);
        expect(
          offered.find((call) => call.includes(doomed))!.length,
          'concurrent sends share a publish call (so the result is per entry)',
        ).toBeGreaterThan(1);
        const reached = spy.calls
          .filter((call) => call.verb === 'publish')
          .flatMap((call) => call.items);
        expect(reached).not.toContain(doomed);
        for (const id of ids) expect(reached.filter((item) => item === id)).toHaveLength(1);
        const inbox = t.inbox<number>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds(ids);
        const sentinel = await producer.send(-1);
        await inbox.waitForIds([sentinel]);
        expect(inbox.of(doomed)).toHaveLength(0);
        for (const id of ids) expect(inbox.of(id), `deliveries of ${id}`).toHaveLength(1);
      },
    );

    suite.test(
      'an ack whose BatchResult fails one entry (retryable) is retried for that entry alone',
      async (t) => {
        const real = await t.driver();
        let injected = false;
        const failedHandles: unknown[] = [];
        const spy = spyDriver(real, {
          async ack(handles, realAck) {
            if (injected) return realAck(handles);
            injected = true;
            failedHandles.push(handles[0]);
            const rest = handles.slice(1);
            const result = rest.length > 0 ? await realAck(rest) : undefined;
            return {
              failed: [
                { index: 0, error: injectedFailure('ack not accepted') },
                ...(result?.failed ?? []).map((entry) => ({ ...entry, index: entry.index + 1 })),
              ],
            };
          },
        });
        const bus = await t.connectDriver(spy.driver);
        const topic = t.name('topic');
        const consumer = bus.consumer<number>(
          topic,
          t.name('sub'),
          consumerOptions({ concurrency: 4 }),
        );
        await consumer.ready();
        const producer = bus.producer<number>(topic);
        const ids = await producer.sendBatch(range(4).map((n) => ({ body: n })));
        const inbox = t.inbox<number>();
        await t.consume(consumer, inbox);
        await inbox.waitForIds(ids);
        const acked = () =>
          spy.calls.filter((call) => call.verb === 'ack').flatMap((call) => call.items);
        await t.waitFor(
          () => failedHandles.length === 1 && acked().includes(failedHandles[0]),
          'the failed ack entry retried',
        );
        const all = acked();
        expect(new Set(all).size, 'every handle reached the broker once').toBe(all.length);
        expect(all.length).toBe(ids.length);
        const sentinel = await producer.send(-1);
        await inbox.waitForIds([sentinel]);
        for (const id of ids) expect(inbox.of(id), `deliveries of ${id}`).toHaveLength(1);
      },
    );

    suite.test('release() does not count an attempt; nack() does', async (t) => {
      const driver = await t.driver();
      const { spec, session } = await openSubscription(t, driver);
      const message = outgoing();
      await publishAll(driver, spec.topic, [message]);
      const first = await receiveOne(t, session);
      expect(first.id).toBe(message.id);
      expectNoFailures(
        await session.release([{ handle: first.handle, attempt: first.attempt, message: first }]),
        'release',
      );
      const released = await receiveOne(t, session);
      expect(released.id).toBe(message.id);
      if (t.exactAttempts)
        expect(released.attempt, 'the delivery after a release').toBe(first.attempt);
      expectNoFailures(
        await session.nack([
          { handle: released.handle, delayMs: 0, attempt: released.attempt, message: released },
        ]),
        'nack',
      );
      const nacked = await receiveOne(t, session);
      expect(nacked.id).toBe(message.id);
      t.expectAttempts(
        [first.attempt, released.attempt, nacked.attempt],
        [1, 1, 2],
        'attempts: received, released, nacked',
      );
      expectNoFailures(await session.ack([nacked.handle]), 'ack');
    });

    suite.test(
      'a receive whose signal is aborted resolves promptly with nothing; later messages wait for the next receive',
      async (t) => {
        const driver = await t.driver();
        const { spec, session } = await openSubscription(t, driver);
        const controller = new AbortController();
        const pending = session.receive({ maxMessages: 5, signal: controller.signal });
        controller.abort();
        const handedOut = await within(
          pending.catch((error: unknown) => {
            if (isAbort(error)) return [];
            throw error;
          }),
          PROMPT_MS,
          'a receive after its signal was aborted',
        );
        expect(handedOut, 'messages handed out by an aborted receive').toEqual([]);
        const message = outgoing();
        await publishAll(driver, spec.topic, [message]);
        const next = await receiveOne(t, session);
        expect(next.id).toBe(message.id);
        t.expectAttempts([next.attempt], [1], 'the first delivery after the aborted receive');
        expectNoFailures(await session.ack([next.handle]), 'ack');
      },
    );

    suite.test(
      'a stale handle (ack after the message was released and redelivered) does not settle the new delivery',
      async (t) => {
        const driver = await t.driver();
        const { spec, session } = await openSubscription(t, driver);
        const message = outgoing();
        await publishAll(driver, spec.topic, [message]);
        const first = await receiveOne(t, session);
        expectNoFailures(
          await session.release([{ handle: first.handle, attempt: first.attempt, message: first }]),
          'release',
        );
        const second = await receiveOne(t, session);
        expect(second.id).toBe(message.id);
        // The stale ack may be ignored, reported as a failed entry or refused; it must not settle `second`.
        await session.ack([first.handle]).catch(() => undefined);
        expectNoFailures(
          await session.release([
            { handle: second.handle, attempt: second.attempt, message: second },
          ]),
          'release of the current delivery',
        );
        const third = await receiveOne(t, session);
        expect(third.id, 'the stale ack removed the message').toBe(message.id);
        expectNoFailures(await session.ack([third.handle]), 'ack of the current delivery');
        const sentinel = outgoing();
        await publishAll(driver, spec.topic, [sentinel]);
        const next = await receiveOne(t, session);
        expect(next.id, 'the acked message came back').toBe(sentinel.id);
        expectNoFailures(await session.ack([next.handle]), 'ack');
      },
    );

    suite.test('close() of a subscription and of the driver is idempotent', async (t) => {
      const driver = await t.driver();
      const { session } = await openSubscription(t, driver);
      await within(
        Promise.all([session.close(), session.close()]),
        t.timeoutMs,
        'two concurrent subscription close() calls',
      );
      await within(session.close(), t.timeoutMs, 'a third subscription close()');
      await within(
        Promise.all([driver.close(), driver.close()]),
        t.timeoutMs,
        'two concurrent driver close() calls',
      );
      await within(driver.close(), t.timeoutMs, 'a third driver close()');
    });

    suite.test(
      'a published message reads back with its id, body bytes, attributes, content type, publishedAt and ordering key unchanged',
      async (t) => {
        const driver = await t.driver();
        const { spec, session } = await openSubscription(t, driver);
        const message = outgoing({
          body: Uint8Array.from([...range(256), 0xff, 0xfe, 0x00]),
          attributes: { source: 'contract', 'trace.hint': 'ünïcödé ✓ = "quoted"', Mixed: 'Case' },
          contentType: 'application/vnd.omnibus-contract+octets',
          publishedAt: Date.now() - 61_234,
          ...(driver.capabilities.ordering ? { orderingKey: `key-${t.prefix}` } : {}),
        });
        await publishAll(driver, spec.topic, [message]);
        const got = await receiveOne(t, session);
        expect(got.id).toBe(message.id);
        expect(Buffer.from(got.body).equals(Buffer.from(message.body)), 'body bytes').toBe(true);
        expect(got.attributes).toEqual(message.attributes);
        expect(got.contentType).toBe(message.contentType);
        expect(got.publishedAt).toBe(message.publishedAt);
        expect(got.orderingKey).toBe(message.orderingKey);
        t.expectAttempts([got.attempt], [1], 'the first delivery');
        expectNoFailures(await session.ack([got.handle]), 'ack');
      },
    );

    suite.test(
      'topic and subscription names of 64 characters under a 32-character prefix work and stay apart',
      async (t) => {
        const driver = await t.driver();
        const prefix = `${t.prefix}${'p'.repeat(PORTABLE_RULES.prefixMaxLength)}`.slice(
          0,
          PORTABLE_RULES.prefixMaxLength,
        );
        const bus = await t.connectDriver(driver, prefix);
        const long = (head: string, last: string) =>
          `${head}${'x'.repeat(PORTABLE_RULES.nameMaxLength - head.length - 1)}${last}`;
        const [topicA, topicB] = [long('topic', 'a'), long('topic', 'b')];
        const [subA, subB] = [long('sub', 'a'), long('sub', 'b')];
        const pairs: [string, string][] = [
          [topicA, subA],
          [topicB, subA],
        ];
        if (bus.capabilities.fanout) pairs.push([topicA, subB]);
        const inboxes = new Map<string, Inbox<string>>();
        for (const [topic, subscription] of pairs) {
          const consumer = bus.consumer<string>(
            topic,
            subscription,
            consumerOptions({ maxAttempts: 2 }),
          );
          const inbox = t.inbox<string>();
          inboxes.set(`${topic}/${subscription}`, inbox);
          const parks = topic === topicA && subscription === subA;
          await t.consume(consumer, inbox, async (message) => {
            if (parks && inbox.of(message.id).length === 1) await message.deadLetter('parked');
          });
        }
        const idA = await bus.producer<string>(topicA).send('to A');
        const idB = await bus.producer<string>(topicB).send('to B');
        for (const [topic, subscription] of pairs) {
          const inbox = inboxes.get(`${topic}/${subscription}`)!;
          await inbox.waitForIds([topic === topicA ? idA : idB]);
        }
        const parked = bus.deadLetters<string>(topicA, subA);
        await t.waitFor(async () => (await parked.count()) === 1, 'the dead letter of A/subA');
        for (const [topic, subscription] of pairs.slice(1)) {
          await t.expectDeadLetterCount(
            bus.deadLetters(topic, subscription),
            0,
            `DLQ of ${topic.slice(-1)}/${subscription.slice(-1)}`,
          );
          await bus.consumer(topic, subscription, consumerOptions({ maxAttempts: 2 })).stats();
        }
        expect(await parked.redrive()).toBe(1);
        const inboxA = inboxes.get(`${topicA}/${subA}`)!;
        await inboxA.waitForCount(2, 'the redriven message back on A/subA');
        const sentinelA = await bus.producer<string>(topicA).send('A end');
        const sentinelB = await bus.producer<string>(topicB).send('B end');
        for (const [topic, subscription] of pairs) {
          const inbox = inboxes.get(`${topic}/${subscription}`)!;
          await inbox.waitForIds([topic === topicA ? sentinelA : sentinelB]);
          const own = topic === topicA ? [idA, sentinelA] : [idB, sentinelB];
          expect(
            [...inbox.uniqueIds()].sort(),
            `${topic.slice(-1)}/${subscription.slice(-1)} got only its own`,
          ).toEqual(own.sort());
        }
      },
    );
  });
}
