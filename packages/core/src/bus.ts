// The portable Bus over one driver: names, memoised topology, producers, consumers, close.

import { budget, withRetries } from './backoff.js';
import {
  CONSUMER_DEFAULTS,
  type ConsumerContext,
  ConsumerImpl,
  resolveDeadLetterSettings,
  resolveOrdering,
  resolveSettings,
} from './consumer.js';
import { DeadLettersImpl } from './dead-letters.js';
import type { Capabilities, DriverV2, SubscriptionRef, SubscriptionSpec } from './driver.js';
import {
  ClosedError,
  ConfigError,
  InvalidArgumentError,
  OmnibusError,
  toOmnibusError,
  UnsupportedError,
} from './errors.js';
import { INSPECT } from './inspect.js';
import { DEFAULT_OPERATION_TIMEOUT_MS } from './operation-timeout.js';
import { type ProducerContext, ProducerImpl } from './producer.js';
import { PublishBatcher } from './publish-batcher.js';
import { checkName, checkPrefix } from './rules.js';
import type { Tracing } from './trace.js';
import type {
  Bus,
  Consumer,
  ConsumerOptions,
  DeadLetters,
  Producer,
  ProducerOptions,
  SubscriptionDeclarations,
} from './types.js';

/** Who asks for a subscription's settings, as an `AlreadyExists` error names it. */
export type SubscriptionAsker = 'this consumer' | 'this declaration';

/**
 * The portable bus over one driver. Owns the name prefix, memoized topology creation, the
 * publish batcher and the set of running consumers that `close()` stops and `settled()` watches.
 */
export class BusImpl implements Bus, ProducerContext, ConsumerContext {
  readonly driver: DriverV2;
  readonly tracing: Tracing | undefined;
  readonly publishBatcher: PublishBatcher;
  private readonly prefix: string;
  private readonly topics = new Map<string, Promise<void>>();
  private readonly subscriptions = new Map<
    string,
    {
      readonly spec: SubscriptionSpec;
      readonly asker: SubscriptionAsker;
      readonly ready: Promise<void>;
    }
  >();
  /** Final topic name → final subscription names seen, to refuse fan-out where it's unsupported. */
  private readonly subscriptionsByTopic = new Map<string, Set<string>>();
  private readonly consumers = new Set<ConsumerImpl<unknown>>();
  private readonly listeners = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private deletions = 0;

  constructor(driver: DriverV2, prefix: string, tracing: Tracing | undefined) {
    if (driver?.specificationVersion !== 'v2') {
      throw new ConfigError(
        `the ${typeof driver?.name === 'string' ? `${driver.name} ` : ''}driver implements driver specification "${String(driver?.specificationVersion)}"; this @omnibus/core needs "v2": upgrade the adapter package to one built for driver contract v2`,
      );
    }
    checkPrefix(prefix);
    this.driver = driver;
    this.prefix = prefix;
    this.tracing = tracing;
    this.publishBatcher = new PublishBatcher(driver, () => this.changed());
  }

  get capabilities(): Capabilities {
    return this.driver.capabilities;
  }
  get native(): unknown {
    return this.driver.native;
  }
  get adapter(): string {
    return this.driver.name;
  }

  /** `console.log(bus)` shows the adapter, never the client: its options may hold a password. */
  [INSPECT](): string {
    return `Bus { adapter: '${this.driver.name}' }`;
  }

  toJSON(): object {
    return { adapter: this.driver.name };
  }

  /** Changes whenever a delete made memoized topology stale, so producers declare again. */
  get topologyVersion(): number {
    return this.deletions;
  }

  get operationTimeoutMs(): number {
    return this.driver.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  }

  assertOpen(): void {
    if (this.closing !== undefined)
      throw new ClosedError('the bus is closed', { driver: this.driver.name });
  }

  producer<T = unknown>(topic: string, options: ProducerOptions = {}): Producer<T> {
    this.assertOpen();
    checkName(topic, 'topic');
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('producer options must be an object');
    const declared =
      options.subscriptions === undefined
        ? undefined
        : this.declaredSpecs(topic, options.subscriptions);
    return new ProducerImpl<T>(this, topic, this.prefix + topic, declared);
  }

  async declare(topic: string, subscriptions: SubscriptionDeclarations): Promise<void> {
    this.assertOpen();
    checkName(topic, 'topic');
    await this.declarationsReady(this.prefix + topic, this.declaredSpecs(topic, subscriptions));
  }

  /** Checks declared subscriptions and turns them into specs; throws before any I/O. */
  private declaredSpecs(
    topic: string,
    subscriptions: SubscriptionDeclarations,
  ): readonly SubscriptionSpec[] {
    if (
      typeof subscriptions !== 'object' ||
      subscriptions === null ||
      Array.isArray(subscriptions)
    ) {
      throw new InvalidArgumentError(
        'subscriptions must be an object: { [subscription]: { maxAttempts?, deadLetter?, ordering? } }',
      );
    }
    const names = Object.keys(subscriptions);
    if (names.length > 1 && !this.driver.capabilities.fanout) {
      // Refused whole, before any I/O: creating the first and refusing the second would leave the
      // topic bound to a subscription nobody asked for alone.
      throw new UnsupportedError(
        `the ${this.driver.name} adapter does not declare the "fanout" capability: topic "${topic}" can have one subscription, and this declaration names ${names.length} (${names.map((name) => `"${name}"`).join(', ')})`,
        { driver: this.driver.name },
      );
    }
    return Object.entries(subscriptions).map(([subscription, declaration]) => {
      checkName(subscription, 'subscription');
      if (typeof declaration !== 'object' || declaration === null) {
        throw new InvalidArgumentError(
          `the declaration of subscription "${subscription}" must be an object ({ maxAttempts?, deadLetter?, ordering? })`,
        );
      }
      const { maxAttempts, deadLetter } = resolveDeadLetterSettings(declaration);
      return {
        topic: this.prefix + topic,
        subscription: this.prefix + subscription,
        maxAttempts,
        deadLetter,
        ackDeadlineMs: CONSUMER_DEFAULTS.ackDeadlineMs,
        ordering: resolveOrdering(this.driver, declaration.ordering),
      };
    });
  }

  /** Ensures the topic and every declared subscription (with its DLQ). */
  declarationsReady(topic: string, specs: readonly SubscriptionSpec[]): Promise<void> {
    return Promise.all([
      this.topicReady(topic),
      ...specs.map((spec) => this.subscriptionReady(spec, 'this declaration')),
    ]).then(() => undefined);
  }

  consumer<T = unknown>(
    topic: string,
    subscription: string,
    options: ConsumerOptions<T> = {},
  ): Consumer<T> {
    this.assertOpen();
    checkName(topic, 'topic');
    checkName(subscription, 'subscription');
    const settings = resolveSettings(this.driver, options);
    const spec: SubscriptionSpec = {
      topic: this.prefix + topic,
      subscription: this.prefix + subscription,
      maxAttempts: settings.maxAttempts,
      deadLetter: settings.deadLetter,
      ackDeadlineMs: settings.ackDeadlineMs,
      ordering: settings.ordering,
    };
    return new ConsumerImpl<T>(this, topic, subscription, spec, settings);
  }

  deadLetters<T = unknown>(topic: string, subscription: string): DeadLetters<T> {
    this.assertOpen();
    checkName(topic, 'topic');
    checkName(subscription, 'subscription');
    const ref: SubscriptionRef = {
      topic: this.prefix + topic,
      subscription: this.prefix + subscription,
    };
    return new DeadLettersImpl<T>(this.driver, ref, `${topic}/${subscription}`, () =>
      this.assertOpen(),
    );
  }

  async deleteSubscription(topic: string, subscription: string): Promise<boolean> {
    this.assertOpen();
    checkName(topic, 'topic');
    checkName(subscription, 'subscription');
    const ref: SubscriptionRef = {
      topic: this.prefix + topic,
      subscription: this.prefix + subscription,
    };
    try {
      return await withRetries(
        () => this.driver.deleteSubscription(ref),
        (error) =>
          toOmnibusError(
            error,
            this.driver,
            `deleting subscription ${topic}/${subscription} failed`,
          ),
        budget(this.operationTimeoutMs),
      );
    } finally {
      // Even after a failure part of it may be gone; ensuring again is idempotent.
      this.forgetSubscription(ref.topic, ref.subscription);
    }
  }

  async deleteTopic(topic: string): Promise<boolean> {
    this.assertOpen();
    checkName(topic, 'topic');
    const finalTopic = this.prefix + topic;
    try {
      return await withRetries(
        () => this.driver.deleteTopic({ topic: finalTopic }),
        (error) => toOmnibusError(error, this.driver, `deleting topic "${topic}" failed`),
        budget(this.operationTimeoutMs),
      );
    } finally {
      // A topic's subscriptions are ensured again too: where the broker attaches them to the topic
      // (SNS subscriptions, RabbitMQ bindings) they went with it.
      this.topics.delete(finalTopic);
      for (const subscription of [...(this.subscriptionsByTopic.get(finalTopic) ?? [])])
        this.forgetSubscription(finalTopic, subscription);
      this.deletions++;
    }
  }

  /** Makes the next consumer, producer or declaration ensure this subscription again. */
  private forgetSubscription(topic: string, subscription: string): void {
    this.subscriptions.delete(`${topic}\u0000${subscription}`);
    this.subscriptionsByTopic.get(topic)?.delete(subscription);
    this.deletions++;
  }

  topicReady(topic: string): Promise<void> {
    let ready = this.topics.get(topic);
    if (ready === undefined) {
      ready = withRetries(
        () => this.driver.ensureTopic({ topic }),
        (error) => toOmnibusError(error, this.driver, `creating topic "${topic}" failed`),
        budget(this.operationTimeoutMs),
      ).catch((error: unknown) => {
        this.topics.delete(topic);
        throw error;
      });
      this.topics.set(topic, ready);
    }
    return ready;
  }

  subscriptionReady(
    spec: SubscriptionSpec,
    asker: SubscriptionAsker = 'this consumer',
  ): Promise<void> {
    const key = `${spec.topic}\u0000${spec.subscription}`;
    const known = this.subscriptions.get(key);
    if (known !== undefined) {
      const conflict = conflictingSetting(known, spec, asker, this.driver.name);
      return conflict === undefined ? known.ready : Promise.reject(conflict);
    }
    const names = this.subscriptionsByTopic.get(spec.topic) ?? new Set<string>();
    if (!this.driver.capabilities.fanout && names.size > 0 && !names.has(spec.subscription)) {
      return Promise.reject(
        new UnsupportedError(
          `the ${this.driver.name} adapter does not declare the "fanout" capability: topic "${spec.topic}" already has subscription "${[...names][0]}"`,
          { driver: this.driver.name },
        ),
      );
    }
    names.add(spec.subscription);
    this.subscriptionsByTopic.set(spec.topic, names);
    const ready = withRetries(
      () => this.driver.ensureSubscription(spec),
      (error) =>
        toOmnibusError(
          error,
          this.driver,
          `creating subscription "${spec.subscription}" on topic "${spec.topic}" failed`,
        ),
      budget(this.operationTimeoutMs),
    ).catch((error: unknown) => {
      this.subscriptions.delete(key);
      names.delete(spec.subscription);
      throw error;
    });
    this.subscriptions.set(key, { spec, asker, ready });
    return ready;
  }

  register(consumer: ConsumerImpl<unknown>): void {
    this.consumers.add(consumer);
  }
  unregister(consumer: ConsumerImpl<unknown>): void {
    this.consumers.delete(consumer);
    this.changed();
  }

  changed(): void {
    // Called per handled message; nobody listens unless settled() is waiting.
    if (this.listeners.size === 0) return;
    for (const listener of this.listeners) listener();
  }

  private isSettled(): boolean {
    if (this.publishBatcher.inFlight > 0) return false;
    for (const consumer of this.consumers) if (consumer.busy) return false;
    return this.driver.testHooks?.isIdle() ?? false;
  }

  async settled(): Promise<void> {
    const { driver } = this;
    const hooks = driver.testHooks;
    if (hooks === undefined) {
      throw new UnsupportedError(
        `the ${driver.name} adapter can't tell when everything is settled; settled() is for memory://`,
        {
          driver: driver.name,
        },
      );
    }
    while (!this.isSettled()) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          unsubscribe();
          this.listeners.delete(wake);
          resolve();
        };
        const unsubscribe = hooks.onChange(wake);
        this.listeners.add(wake);
      });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.stop()));
      await this.publishBatcher.drain();
      try {
        await this.driver.close();
      } catch (error) {
        throw toOmnibusError(error, this.driver, 'closing the connection failed');
      }
    })();
    return this.closing;
  }
}

/**
 * A subscription's dead-letter settings and ordering are fixed when it is created (SQS redrive
 * policy, Pub/Sub dead-letter policy and message ordering, RabbitMQ queue arguments): a second
 * consumer or declaration asking others gets `AlreadyExists` rather than silently running with the
 * first one's.
 */
function conflictingSetting(
  existing: { readonly spec: SubscriptionSpec; readonly asker: SubscriptionAsker },
  wanted: SubscriptionSpec,
  asker: SubscriptionAsker,
  driver: string,
): OmnibusError | undefined {
  for (const setting of ['deadLetter', 'maxAttempts', 'ordering'] as const) {
    if (existing.spec[setting] !== wanted[setting]) {
      const by = existing.asker === 'this declaration' ? 'declared' : 'created by a consumer';
      return new OmnibusError(
        'AlreadyExists',
        `subscription "${wanted.subscription}" on topic "${wanted.topic}" already exists (${by}) with ${setting} ${String(existing.spec[setting])}; ${asker} asks ${String(wanted[setting])}`,
        { driver },
      );
    }
  }
  return undefined;
}
