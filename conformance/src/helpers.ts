import { randomBytes } from 'node:crypto';
import type {
  Bus,
  Consumer,
  ConsumerOptions,
  DeadLetter,
  DeadLetters,
  Message,
  Producer,
} from '@omnibus/core';
import { connect, OmnibusError, PORTABLE_RULES } from '@omnibus/core';
import type { DriverV2 } from '@omnibus/core/driver';
import { expect, it, type TestContext } from 'vitest';
import type { ConformanceHarness, ConformanceOptions } from './harness.js';

export type Capabilities = Bus['capabilities'];
export type ErrorCode = OmnibusError['code'];

/** Backoff small enough that retry tests take milliseconds, not seconds. */
export const FAST_RETRY = { initialDelayMs: 10, maxDelayMs: 50 } as const;

const POLL_INTERVAL_MS = 10;

/**
 * Consumer options every test starts from: fast retries, and a short shutdown timeout so a test
 * that fails while a handler is stuck still closes its buses quickly.
 */
export function consumerOptions<T>(options: ConsumerOptions<T> = {}): ConsumerOptions<T> {
  return { retry: FAST_RETRY, shutdownTimeoutMs: 2_000, ...options };
}

/** A prefix no other test or run uses; matches `^[A-Za-z][A-Za-z0-9_-]{0,31}$`. */
export function uniquePrefix(): string {
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(8, '0')
    .slice(0, 8);
  return `c${Date.now().toString(36).slice(-4)}${random}-`;
}

/** A promise with its resolve function, to gate handlers on a condition of the test's choosing. */
export interface Gate<T = void> {
  readonly promise: Promise<T>;
  open(value: T): void;
  readonly opened: boolean;
}

export function gate<T = void>(): Gate<T> {
  let resolve!: (value: T) => void;
  let opened = false;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return {
    promise,
    open(value: T) {
      opened = true;
      resolve(value);
    },
    get opened() {
      return opened;
    },
  };
}

/**
 * Stands in for a handler's own work. Never used to wait for the system under test: that is what
 * `waitFor` is for.
 */
export function simulateWork(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every few ms until it holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  description: string | (() => string),
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) {
      const what = typeof description === 'function' ? description() : description;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Rejects if `promise` does not settle within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `action` and checks it fails, synchronously or by rejecting, with an `OmnibusError` whose
 * code is one of `codes`. Returns the error for further checks.
 */
export async function expectOmnibusError(
  action: () => unknown,
  codes: readonly ErrorCode[],
  what: string,
): Promise<OmnibusError> {
  let failure: unknown;
  let failed = false;
  try {
    await action();
  } catch (error) {
    failed = true;
    failure = error;
  }
  const wanted = codes.join(' or ');
  if (!failed)
    throw new Error(`${what}: expected an OmnibusError with code ${wanted}, but it succeeded`);
  if (!OmnibusError.isInstance(failure)) {
    throw new Error(
      `${what}: expected an OmnibusError with code ${wanted}, got ${describeError(failure)}`,
      {
        cause: failure,
      },
    );
  }
  if (!codes.includes(failure.code)) {
    throw new Error(`${what}: expected code ${wanted}, got ${failure.code} (${failure.message})`, {
      cause: failure,
    });
  }
  return failure;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** What the suite remembers of one delivery: a snapshot taken when the handler was called. */
export interface Delivery<T> {
  readonly id: string;
  readonly body: T;
  readonly attributes: Readonly<Record<string, string>>;
  readonly attempt: number;
  readonly publishedAt: Date;
  readonly orderingKey: string | undefined;
  /** `Date.now()` when the handler was called. */
  readonly receivedAt: number;
  /** Which consumer took it, when a test runs several. */
  readonly consumer: string;
  readonly message: Message<T>;
}

export function snapshot<T>(message: Message<T>, consumer = 'main'): Delivery<T> {
  return {
    id: message.id,
    body: message.body,
    attributes: { ...message.attributes },
    attempt: message.attempt,
    publishedAt: message.publishedAt,
    orderingKey: message.orderingKey,
    receivedAt: Date.now(),
    consumer,
    message,
  };
}

/** Deliveries recorded by one or more consumers, with waits on what they contain. */
export class Inbox<T = unknown> {
  readonly deliveries: Delivery<T>[] = [];
  private readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  record(message: Message<T>, consumer?: string): Delivery<T> {
    const delivery = snapshot(message, consumer);
    this.deliveries.push(delivery);
    return delivery;
  }

  ids(): string[] {
    return this.deliveries.map((delivery) => delivery.id);
  }

  uniqueIds(): Set<string> {
    return new Set(this.ids());
  }

  of(id: string): Delivery<T>[] {
    return this.deliveries.filter((delivery) => delivery.id === id);
  }

  /** Waits until every id in `ids` was delivered at least once. */
  async waitForIds(ids: readonly string[], what = 'every sent message'): Promise<void> {
    await waitFor(
      () => ids.every((id) => this.deliveries.some((delivery) => delivery.id === id)),
      () => {
        const seen = this.uniqueIds();
        const missing = ids.filter((id) => !seen.has(id));
        return `${what}: ${missing.length} of ${ids.length} not delivered (e.g. ${missing.slice(0, 3).join(', ')})`;
      },
      this.timeoutMs,
    );
  }

  /** Waits until at least `count` deliveries matched `predicate`. */
  async waitForCount(
    count: number,
    what: string,
    predicate: (delivery: Delivery<T>) => boolean = () => true,
  ): Promise<void> {
    await waitFor(
      () => this.deliveries.filter(predicate).length >= count,
      () => `${what} (have ${this.deliveries.filter(predicate).length} of ${count})`,
      this.timeoutMs,
    );
  }
}

/** One test's own namespace, buses and clean-up. */
export interface TestKit {
  readonly harness: ConformanceHarness;
  /** This test's prefix, passed to every `harness.connect` of the test. */
  readonly prefix: string;
  /** The bus opened for the test. */
  readonly bus: Bus;
  readonly capabilities: Capabilities;
  readonly timeoutMs: number;
  /** Lease for lease tests: the option, else the portable minimum (10 s) or the adapter's, within maxMs. */
  readonly ackDeadlineMs: number;
  /** Opens another bus on the same broker and prefix (another "process"); closed after the test. */
  connect(): Promise<Bus>;
  /**
   * A fresh driver from `harness.driver` (the test is skipped naming the hook when it is absent),
   * closed after the test.
   */
  driver(): Promise<DriverV2>;
  /** Opens a bus over `driver` with the test's prefix (or `prefix`); the bus is closed after the test. */
  connectDriver(driver: DriverV2, prefix?: string): Promise<Bus>;
  /** `capabilities.attempts === 'exact'`: the suite holds attempt numbers to exact values. */
  readonly exactAttempts: boolean;
  /**
   * Checks attempt numbers as `capabilities.attempts` promises: equal to `expected` where exact,
   * else never below it (`expected` being the deliveries a handler got, counted by the test).
   */
  expectAttempts(actual: readonly number[], expected: readonly number[], what: string): void;
  /**
   * Peeks dead letters as `capabilities.deadLetterAdmin.peek` allows: where it is `none`, checks
   * that peek rejects `Unsupported` and skips the rest of the test naming the capability.
   */
  peek<T>(dlq: DeadLetters<T>, limit?: number): Promise<DeadLetter<T>[]>;
  /**
   * A dead letter's recorded attempts: exactly `expected`, or never below it where peeking is
   * `count-bumping` (each peek is a receive there, and may raise the count).
   */
  expectLetterAttempts(actual: number, expected: number, what: string): void;
  /** The DLQ's count is `expected`: at once where `deadLetterAdmin.count` is exact, eventually where approximate. */
  expectDeadLetterCount(dlq: DeadLetters<unknown>, expected: number, what: string): Promise<void>;
  /** A topic or subscription name unique within the test. */
  name(kind: string): string;
  /** Skips the rest of the test, naming the capability, unless it is declared. */
  requires(declared: boolean, capability: string): void;
  /** Skips the rest of the test, naming the capability, when it is declared (the test checks its absence). */
  requiresAbsent(declared: boolean, capability: string): void;
  /** Skips the rest of the test for a harness hook that is missing, naming it. */
  requiresHook(present: boolean, hook: string): void;
  waitFor(
    condition: () => boolean | Promise<boolean>,
    description: string | (() => string),
  ): Promise<void>;
  inbox<T = unknown>(): Inbox<T>;
  /**
   * Starts `consumer` with a handler that records each delivery into `inbox` and then runs
   * `behaviour` (whose throw or rejection fails the delivery).
   */
  consume<T>(
    consumer: Consumer<T>,
    inbox: Inbox<T>,
    behaviour?: (message: Message<T>, delivery: Delivery<T>) => unknown,
    label?: string,
  ): Promise<void>;
  /** Runs before the test's buses close, even when the test failed (releases gates, …). */
  defer(cleanup: () => unknown): void;
}

/** The registration context shared by every behaviour file. */
export interface Suite {
  readonly harness: ConformanceHarness;
  readonly timeoutMs: number;
  /**
   * Registers one test with its own prefix and bus. `budgetMs` is the vitest timeout beyond the
   * default (several `timeoutMs` waits), for tests whose semantics include a long window.
   */
  test(name: string, body: (t: TestKit) => Promise<void>, budgetMs?: number): void;
  /** Closes every bus of the test that just ran; registered in `afterEach`. */
  cleanup(): Promise<void>;
}

export function createSuite(harness: ConformanceHarness, options: ConformanceOptions = {}): Suite {
  const timeoutMs = options.timeoutMs ?? 15_000;
  let buses: Bus[] = [];
  let drivers: DriverV2[] = [];
  let cleanups: (() => unknown)[] = [];

  async function openBus(prefix: string): Promise<Bus> {
    const bus = await harness.connect({ prefix });
    buses.push(bus);
    return bus;
  }

  async function openDriverBus(driver: DriverV2, prefix: string): Promise<Bus> {
    const bus = await connect(driver, { prefix });
    buses.push(bus);
    return bus;
  }

  async function openKit(context: TestContext): Promise<TestKit> {
    const prefix = uniquePrefix();
    const bus = await openBus(prefix);
    const capabilities = bus.capabilities;
    const { minMs, maxMs } = capabilities.ackDeadline;
    const ackDeadlineMs = Math.min(
      maxMs,
      options.ackDeadlineMs ?? Math.max(PORTABLE_RULES.ackDeadlineMinMs, minMs),
    );
    const counters = new Map<string, number>();
    return {
      harness,
      prefix,
      bus,
      capabilities,
      timeoutMs,
      ackDeadlineMs,
      connect: () => openBus(prefix),
      async driver() {
        if (harness.driver === undefined) context.skip('harness.driver is not provided');
        const driver = await harness.driver!({ prefix });
        drivers.push(driver);
        return driver;
      },
      connectDriver: (driver, own = prefix) => openDriverBus(driver, own),
      exactAttempts: capabilities.attempts === 'exact',
      expectAttempts(actual, expected, what) {
        if (capabilities.attempts === 'exact') {
          expect([...actual], `${what} (capabilities.attempts exact)`).toEqual([...expected]);
          return;
        }
        expect(actual, `${what}: one number per delivery`).toHaveLength(expected.length);
        actual.forEach((attempt, index) => {
          expect(
            attempt,
            `${what}: delivery ${index + 1} (capabilities.attempts ${capabilities.attempts}: never below the deliveries a handler got)`,
          ).toBeGreaterThanOrEqual(expected[index]!);
        });
      },
      async peek(dlq, limit) {
        if (capabilities.deadLetterAdmin.peek === 'none') {
          await expectOmnibusError(
            () => dlq.peek(limit),
            ['Unsupported'],
            'peek where capabilities.deadLetterAdmin.peek is none',
          );
          context.skip('requires capability deadLetterAdmin.peek (none declared)');
        }
        return dlq.peek(limit);
      },
      expectLetterAttempts(actual, expected, what) {
        if (capabilities.deadLetterAdmin.peek === 'count-bumping') {
          expect(actual, `${what} (peek is count-bumping)`).toBeGreaterThanOrEqual(expected);
        } else {
          expect(actual, what).toBe(expected);
        }
      },
      async expectDeadLetterCount(dlq, expected, what) {
        if (capabilities.deadLetterAdmin.count === 'exact') {
          expect(await dlq.count(), what).toBe(expected);
          return;
        }
        let last: number | undefined;
        await waitFor(
          async () => {
            last = await dlq.count();
            return last === expected;
          },
          () => `${what}: approximate count ${expected} (have ${last})`,
          timeoutMs,
        );
      },
      name(kind) {
        const next = (counters.get(kind) ?? 0) + 1;
        counters.set(kind, next);
        return `${kind}${next}`;
      },
      requires(declared, capability) {
        if (!declared) context.skip(`requires capability ${capability}`);
      },
      requiresAbsent(declared, capability) {
        if (declared)
          context.skip(`capability ${capability} is declared; this checks an adapter without it`);
      },
      requiresHook(present, hook) {
        if (!present) context.skip(`harness.${hook} is not provided`);
      },
      waitFor: (condition, description) => waitFor(condition, description, timeoutMs),
      inbox: <T>() => new Inbox<T>(timeoutMs),
      consume: (consumer, inbox, behaviour, label) =>
        consumer.start(async (message) => {
          const delivery = inbox.record(message, label);
          if (behaviour !== undefined) await behaviour(message, delivery);
        }),
      defer(cleanup) {
        cleanups.push(cleanup);
      },
    };
  }

  return {
    harness,
    timeoutMs,
    test(name, body, budgetMs = 0) {
      const gap = harness.knownGaps?.[name];
      it(
        name,
        async (context) => {
          if (gap !== undefined) context.skip(`known gap of ${harness.name}: ${gap}`);
          return body(await openKit(context));
        },
        timeoutMs * 4 + budgetMs,
      );
    },
    async cleanup() {
      const pendingCleanups = cleanups.reverse();
      const pendingBuses = buses;
      const pendingDrivers = drivers;
      cleanups = [];
      buses = [];
      drivers = [];
      const errors: unknown[] = [];
      for (const cleanup of pendingCleanups) {
        try {
          await cleanup();
        } catch (error) {
          errors.push(error);
        }
      }
      const closed = await Promise.allSettled(
        pendingBuses.map((bus) => within(bus.close(), timeoutMs, 'bus.close() after the test')),
      );
      for (const result of closed) if (result.status === 'rejected') errors.push(result.reason);
      // Closing a driver is idempotent (the contract says so), so one a bus closed already is fine.
      const closedDrivers = await Promise.allSettled(
        pendingDrivers.map((driver) =>
          within(driver.close(), timeoutMs, 'driver.close() after the test'),
        ),
      );
      for (const result of closedDrivers)
        if (result.status === 'rejected') errors.push(result.reason);
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** What {@link pullOne} set up: the consumer, its open iterator, and the one message pulled. */
export interface PulledOne<T> {
  readonly topic: string;
  readonly consumer: Consumer<T>;
  readonly producer: Producer<T>;
  readonly iterator: AsyncIterableIterator<Message<T>>;
  readonly message: Message<T>;
}

/**
 * A fresh topic with a `concurrency: 1` consumer, `body` sent after `ready()`, and that message
 * pulled through `messages()` (its id checked against the one `send` returned).
 */
export async function pullOne<T>(t: TestKit, body: T): Promise<PulledOne<T>> {
  const topic = t.name('topic');
  const consumer = t.bus.consumer<T>(topic, t.name('sub'), consumerOptions({ concurrency: 1 }));
  await consumer.ready();
  const producer = t.bus.producer<T>(topic);
  const id = await producer.send(body);
  const iterator = consumer.messages();
  const message = (await iterator.next()).value!;
  expect(message.id).toBe(id);
  return { topic, consumer, producer, iterator, message };
}

/** Sends each body in turn; resolves with the ids. */
export async function sendAll<T>(producer: Producer<T>, bodies: readonly T[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) ids.push(await producer.send(body));
  return ids;
}

/** `0, 1, …, count - 1`. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
