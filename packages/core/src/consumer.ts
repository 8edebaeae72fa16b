// Consumers: option checks and defaults, and the open/stop lifecycle around a consumer loop.

import { budget, withRetries } from './backoff.js';
import {
  ConsumerLoop,
  type ConsumerSettings,
  type LoopObserver,
} from './consumer/consumer-loop.js';
import type { DriverSubscription, DriverV2, SubscriptionRef, SubscriptionSpec } from './driver.js';
import {
  InvalidArgumentError,
  type OmnibusError,
  toOmnibusError,
  UnsupportedError,
} from './errors.js';
import { INSPECT } from './inspect.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from './operation-timeout.js';
import { checkMilliseconds, PORTABLE_RULES } from './rules.js';
import type { Tracing } from './trace.js';
import type {
  Consumer,
  ConsumerOptions,
  ConsumerStats,
  Handler,
  Message,
  StatName,
  SubscriptionDeclaration,
} from './types.js';

/** What consumers need from the bus. */
export interface ConsumerContext extends LoopObserver {
  readonly driver: DriverV2;
  readonly tracing: Tracing | undefined;
  assertOpen(): void;
  /** Creates the subscription once per bus (memoized by final names). */
  subscriptionReady(spec: SubscriptionSpec): Promise<void>;
  register(consumer: ConsumerImpl<unknown>): void;
  unregister(consumer: ConsumerImpl<unknown>): void;
}

/** The consumer options' defaults, as `bus.consumer()` fills them in. */
export const CONSUMER_DEFAULTS = {
  /** Handlers running at once. */
  concurrency: 10,
  /** Attempts before a message is dead-lettered. */
  maxAttempts: 5,
  /** Whether the subscription has a DLQ. */
  deadLetter: true,
  /** Lease of each delivery, in ms. */
  ackDeadlineMs: 30_000,
  /** Backoff between attempts after a handler failure. */
  retry: {
    /** Delay before the second attempt, in ms. */
    initialDelayMs: 1_000,
    /** Longest delay between attempts, in ms. */
    maxDelayMs: 60_000,
  },
  /** How long `stop()` waits for running handlers, in ms. */
  shutdownTimeoutMs: 30_000,
} as const;

function wholeNumber(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(
      `${name} must be a whole number from 1 to ${max} (the portable bound), got ${String(value)}`,
    );
  }
  return value;
}

/** The lease range a consumer may ask for: the portable one, narrowed by the driver's. */
export function leaseBounds(driver: DriverV2): { minMs: number; maxMs: number } {
  const { minMs, maxMs } = driver.capabilities.ackDeadline;
  return {
    minMs: Math.max(minMs, PORTABLE_RULES.ackDeadlineMinMs),
    maxMs: Math.min(maxMs, PORTABLE_RULES.ackDeadlineMaxMs),
  };
}

/**
 * The settings fixed when a subscription is created, from a consumer's options or a producer's
 * declaration, with the same defaults; throws `InvalidArgument` naming the option.
 */
export function resolveDeadLetterSettings(options: SubscriptionDeclaration): {
  maxAttempts: number;
  deadLetter: boolean;
} {
  const deadLetter = options.deadLetter ?? CONSUMER_DEFAULTS.deadLetter;
  if (typeof deadLetter !== 'boolean')
    throw new InvalidArgumentError('deadLetter must be a boolean');
  const maxAttempts = deadLetter
    ? wholeNumber(
        options.maxAttempts ?? CONSUMER_DEFAULTS.maxAttempts,
        'maxAttempts',
        PORTABLE_RULES.maxAttempts,
      )
    : Number.POSITIVE_INFINITY;
  return { maxAttempts, deadLetter };
}

/**
 * A subscription's per-key ordering: the capability's default, or the caller's choice (fixed when
 * the subscription is created, as on Pub/Sub); `true` without the capability is `Unsupported`.
 */
export function resolveOrdering(driver: DriverV2, wanted: unknown): boolean {
  const ordering = wanted ?? driver.capabilities.ordering;
  if (typeof ordering !== 'boolean') throw new InvalidArgumentError('ordering must be a boolean');
  if (ordering && !driver.capabilities.ordering) {
    throw new UnsupportedError(
      `the ${driver.name} adapter does not declare the "ordering" capability, so a subscription can't ask for ordering: true`,
      { driver: driver.name },
    );
  }
  return ordering;
}

/** Checks consumer options and fills defaults; throws `InvalidArgument` naming the option. */
export function resolveSettings<T>(
  driver: DriverV2,
  options: ConsumerOptions<T>,
): ConsumerSettings<T> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('consumer options must be an object');
  const concurrency = wholeNumber(
    options.concurrency ?? CONSUMER_DEFAULTS.concurrency,
    'concurrency',
    PORTABLE_RULES.maxConcurrency,
  );
  const { maxAttempts, deadLetter } = resolveDeadLetterSettings(options);
  const ordering = resolveOrdering(driver, options.ordering);
  const { minMs, maxMs } = leaseBounds(driver);
  const ackDeadlineMs = options.ackDeadlineMs ?? CONSUMER_DEFAULTS.ackDeadlineMs;
  checkMilliseconds(ackDeadlineMs, 'ackDeadlineMs');
  if (ackDeadlineMs < minMs || ackDeadlineMs > maxMs) {
    throw new InvalidArgumentError(
      `ackDeadlineMs must be from ${minMs} to ${maxMs} ms (the portable bound: Pub/Sub's ack deadline is 10–600 s), got ${ackDeadlineMs}`,
    );
  }
  const initialDelayMs = options.retry?.initialDelayMs ?? CONSUMER_DEFAULTS.retry.initialDelayMs;
  const maxDelayMs =
    options.retry?.maxDelayMs ?? Math.max(CONSUMER_DEFAULTS.retry.maxDelayMs, initialDelayMs);
  checkMilliseconds(initialDelayMs, 'retry.initialDelayMs', PORTABLE_RULES.maxNackDelayMs);
  checkMilliseconds(maxDelayMs, 'retry.maxDelayMs', PORTABLE_RULES.maxNackDelayMs);
  if (maxDelayMs < initialDelayMs)
    throw new InvalidArgumentError('retry.maxDelayMs must not be below retry.initialDelayMs');
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? CONSUMER_DEFAULTS.shutdownTimeoutMs;
  checkMilliseconds(shutdownTimeoutMs, 'shutdownTimeoutMs');
  const schema = options.schema;
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new InvalidArgumentError(
      'schema must implement Standard Schema (an object with ["~standard"].validate)',
    );
  }
  const onError = options.onError ?? defaultOnError;
  if (typeof onError !== 'function') throw new InvalidArgumentError('onError must be a function');
  return {
    concurrency,
    maxAttempts,
    deadLetter,
    ordering,
    ackDeadlineMs,
    retry: { initialDelayMs, maxDelayMs },
    schema,
    shutdownTimeoutMs,
    maxNackDelayMs: Math.min(driver.capabilities.nackDelayMaxMs, PORTABLE_RULES.maxNackDelayMs),
    maxLeaseMs: maxMs,
    operationTimeoutMs: driver.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    onError,
  };
}

function defaultOnError(error: OmnibusError): void {
  // Messages are redacted by OmnibusError; the cause stays out of the log on purpose.
  console.warn(`[omnibus] ${error.code}: ${error.message}`);
}

/**
 * A consumer: at most one consumer loop at a time, opened by `start()` (push) or `messages()`
 * (pull); stopping and reopening gives a fresh loop over a fresh driver subscription.
 */
export class ConsumerImpl<T> implements Consumer<T> {
  readonly topic: string;
  readonly subscription: string;
  readonly spec: SubscriptionSpec;
  /** The two names, for `stats`. */
  private readonly ref: SubscriptionRef;
  private readonly context: ConsumerContext;
  private readonly settings: ConsumerSettings<T>;
  private loop: ConsumerLoop<T> | undefined;
  private opening: Promise<ConsumerLoop<T>> | undefined;
  private stopRequested = false;
  private stopping: Promise<void> | undefined;

  /** What `console.log(consumer)` shows: its names, never the bus's client. */
  [INSPECT](): string {
    return `Consumer { topic: '${this.topic}', subscription: '${this.subscription}' }`;
  }

  toJSON(): object {
    return { topic: this.topic, subscription: this.subscription };
  }
  constructor(
    context: ConsumerContext,
    topic: string,
    subscription: string,
    spec: SubscriptionSpec,
    settings: ConsumerSettings<T>,
  ) {
    this.context = context;
    this.topic = topic;
    this.subscription = subscription;
    this.spec = spec;
    this.ref = { topic: spec.topic, subscription: spec.subscription };
    this.settings = settings;
  }

  /** Handlers running or settles in flight. */
  get busy(): boolean {
    return this.loop?.busy ?? false;
  }

  get active(): boolean {
    return this.loop !== undefined;
  }

  async ready(): Promise<void> {
    this.context.assertOpen();
    await this.context.subscriptionReady(this.spec);
  }

  async start(handler: Handler<T>): Promise<void> {
    if (typeof handler !== 'function')
      throw new InvalidArgumentError('start(handler) needs a function');
    await this.open(handler);
  }

  private open(handler: Handler<T> | undefined): Promise<ConsumerLoop<T>> {
    if (this.loop !== undefined || this.opening !== undefined || this.stopping !== undefined) {
      return Promise.reject(
        new InvalidArgumentError(
          `consumer ${this.topic}/${this.subscription} is already ${this.stopping ? 'stopping' : 'running'}; create another consumer to consume in parallel`,
        ),
      );
    }
    this.stopRequested = false;
    const opening = this.openLoop(handler).finally(() => {
      this.opening = undefined;
    });
    this.opening = opening;
    return opening;
  }

  private async openLoop(handler: Handler<T> | undefined): Promise<ConsumerLoop<T>> {
    await this.ready();
    const { driver } = this.context;
    // Retried like every other driver call: a broker's passing 5xx while the session opens (moto
    // crashing mid CreateQueue in CI) must not fail start().
    const subscription: DriverSubscription = await withRetries(
      () => driver.subscribe(this.spec, { maxOutstanding: this.settings.concurrency }),
      (error) =>
        toOmnibusError(error, driver, `subscribing to ${this.topic}/${this.subscription} failed`),
      budget(this.settings.operationTimeoutMs),
    );
    // The bus may have closed, or stop() been called, while we waited for the broker.
    try {
      this.context.assertOpen();
    } catch (error) {
      await subscription.close().catch(() => undefined);
      throw error;
    }
    const loop = new ConsumerLoop<T>(
      driver,
      subscription,
      this.settings,
      this.context,
      this.context.tracing,
      handler,
    );
    this.loop = loop;
    this.context.register(this as ConsumerImpl<unknown>);
    loop.begin();
    if (this.stopRequested) void this.stop();
    return loop;
  }

  stop(): Promise<void> {
    const loop = this.loop;
    if (loop === undefined) {
      if (this.opening === undefined) return this.stopping ?? Promise.resolve();
      // Opening: stop the loop as soon as it exists (openLoop checks the flag).
      this.stopRequested = true;
      return this.opening.then(
        () => this.stop(),
        () => undefined,
      );
    }
    this.stopping ??= loop.stop().finally(() => {
      this.loop = undefined;
      this.stopping = undefined;
      this.context.unregister(this as ConsumerImpl<unknown>);
    });
    return this.stopping;
  }

  messages(): AsyncIterableIterator<Message<T>> {
    let opened: Promise<ConsumerLoop<T>> | undefined;
    let done = false;
    const iterator: AsyncIterableIterator<Message<T>> = {
      next: async () => {
        if (done) return { done: true, value: undefined };
        opened ??= this.open(undefined);
        const loop = await opened;
        const message = await loop.take();
        if (message === undefined) {
          done = true;
          return { done: true, value: undefined };
        }
        return { done: false, value: message };
      },
      // Leaving the loop (break, return, throw) stops receiving and releases what was received but
      // not yielded, without waiting: messages already yielded stay the caller's to settle, and the
      // consumer loop lives on (leases renewed) until they are settled or shutdownTimeoutMs passes.
      return: async () => {
        done = true;
        if (opened !== undefined) {
          void opened.then(
            () => this.stop(),
            () => undefined,
          );
        }
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  async stats(): Promise<ConsumerStats> {
    this.context.assertOpen();
    const { driver } = this.context;
    const stats = await withRetries(
      () => driver.stats(this.ref),
      (error) =>
        toOmnibusError(error, driver, `stats of ${this.topic}/${this.subscription} failed`),
      budget(this.settings.operationTimeoutMs),
    );
    const declared = driver.capabilities.stats;
    const deadLettered = this.spec.deadLetter ? declared.deadLettered : false;
    const approximate: StatName[] = [];
    if (declared.waiting === 'approximate') approximate.push('waiting');
    if (declared.inFlight === 'approximate') approximate.push('inFlight');
    if (deadLettered === 'approximate') approximate.push('deadLettered');
    return {
      waiting: declared.waiting ? stats.waiting : undefined,
      inFlight: declared.inFlight ? stats.inFlight : undefined,
      deadLettered: deadLettered ? stats.deadLettered : undefined,
      approximate,
    };
  }
}
