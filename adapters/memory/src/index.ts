import {
  checkUrlParameters,
  OmnibusError,
  readOperationTimeout,
  subscriptionNotFound,
} from '@omnibus/core';
import type {
  Capabilities,
  DeadLetterCursor,
  DeadLetterRequest,
  DriverSubscription,
  DriverTestHooks,
  DriverV2,
  LeaseRequest,
  NackRequest,
  OutgoingMessage,
  ReceiveRequest,
  ReleaseRequest,
  SubscriptionRef,
  SubscriptionSpec,
  TopicSpec,
} from '@omnibus/core/driver';
import { MemoryBroker, type SubscriptionState } from './broker.js';

/** Options of {@link memory}. */
export interface MemoryOptions {
  /**
   * Connect to the process-wide broker of this name (what `memory://NAME` does), so several buses
   * share topics; without it the driver gets a new broker of its own.
   */
  name?: string;
}

/**
 * What memory can do. Sizes and attributes follow the portable rules (which core enforces); the
 * lease range is the portable one (Pub/Sub's 10–600 s ack deadline); delays stop at SQS's 15
 * minutes, the strictest broker that has them. There is no delivery limit of its own
 * (`nativeDeadLetter: false`): core alone dead-letters. Everything is exact and confirmed at once;
 * names are map keys, so any length goes.
 */
export const MEMORY_CAPABILITIES: Capabilities = Object.freeze({
  fanout: true,
  ordering: true,
  delayedDelivery: 15 * 60_000,
  nackDelayMaxMs: 15 * 60_000,
  nativeDeadLetter: false,
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 1_000,
  batch: Object.freeze({
    publish: Object.freeze({ maxMessages: 1_000 }),
    settle: Object.freeze({ maxMessages: 1_000 }),
  }),
  attempts: 'exact',
  ackConfirmed: true,
  stats: Object.freeze({ waiting: true, inFlight: true, deadLettered: true }),
  deadLetterAdmin: Object.freeze({
    peek: 'non-destructive',
    count: 'exact',
    redrive: 'subscription',
  }),
  ackDeadline: Object.freeze({ minMs: 10_000, maxMs: 600_000 }),
  leaseExtension: 'native',
  maxNameLength: 1_024,
});

// On globalThis, so every copy of this package loaded in a process (dist and source, ESM and a
// bundled copy) shares one registry: `memory://NAME` must mean the same broker everywhere.
const REGISTRY = Symbol.for('omnibus.memory.brokers');
const namedBrokers: Map<string, MemoryBroker> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as Map<string, MemoryBroker> | undefined) ??
  new Map<string, MemoryBroker>();
(globalThis as Record<symbol, unknown>)[REGISTRY] = namedBrokers;

/** Creates an in-memory driver: `connect(memory())`, or `connect(memory({ name: 'shared' }))`. */
export function memory(options: MemoryOptions = {}): DriverV2 {
  const name = options.name;
  let broker: MemoryBroker;
  if (name !== undefined && name !== '') {
    broker = namedBrokers.get(name) ?? new MemoryBroker();
    namedBrokers.set(name, broker);
  } else {
    broker = new MemoryBroker();
  }
  const owned = name === undefined || name === '';
  const sessions = new Set<MemorySubscription>();
  let closed = false;

  function existing(ref: SubscriptionRef): SubscriptionState {
    const state = broker.subscription(ref);
    if (state === undefined) throw subscriptionNotFound(ref, 'memory');
    return state;
  }

  const testHooks: DriverTestHooks = {
    isIdle: () => broker.isIdle(),
    onChange: (listener) => broker.onChange(listener),
  };

  function assertOpen(): void {
    if (closed)
      throw new OmnibusError('Closed', 'the memory driver is closed', { driver: 'memory' });
  }

  return {
    specificationVersion: 'v2',
    name: 'memory',
    capabilities: MEMORY_CAPABILITIES,
    native: broker,
    async ensureTopic(spec: TopicSpec) {
      assertOpen();
      broker.ensureTopic(spec.topic);
    },
    async ensureSubscription(spec: SubscriptionSpec) {
      assertOpen();
      broker.ensureSubscription(spec);
    },
    async publish(topic: string, messages: readonly OutgoingMessage[]) {
      assertOpen();
      broker.publish(topic, messages);
      return undefined;
    },
    async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
      assertOpen();
      const session = new MemorySubscription(existing(spec), spec.ackDeadlineMs, () =>
        sessions.delete(session),
      );
      sessions.add(session);
      return session;
    },
    async stats(ref) {
      assertOpen();
      return existing(ref).stats();
    },
    async peekDeadLetters(ref, limit) {
      assertOpen();
      return existing(ref).peekDeadLetters(limit);
    },
    async countDeadLetters(ref) {
      assertOpen();
      return existing(ref).countDeadLetters();
    },
    async redriveDeadLetters(ref, limit) {
      assertOpen();
      return existing(ref).redrive(limit);
    },
    async purgeDeadLetters(ref) {
      assertOpen();
      return existing(ref).purge();
    },
    async openDeadLetters(ref): Promise<DeadLetterCursor> {
      assertOpen();
      const pass = existing(ref).openDeadLetters();
      return {
        async next(maxMessages) {
          assertOpen();
          return pass.next(maxMessages);
        },
        async redrive(letters) {
          assertOpen();
          return existing(ref).settleHeld(letters, true);
        },
        async discard(letters) {
          assertOpen();
          return existing(ref).settleHeld(letters, false);
        },
        async close() {
          pass.close();
        },
      };
    },
    async deleteSubscription(ref) {
      assertOpen();
      return broker.deleteSubscription(ref);
    },
    async deleteTopic(spec) {
      assertOpen();
      return broker.deleteTopic(spec.topic);
    },
    testHooks,
    async close() {
      if (closed) return;
      closed = true;
      // Like a dropped connection: what this driver's sessions still hold is redelivered.
      await Promise.all([...sessions].map((session) => session.close()));
      if (owned) broker.dispose();
    },
  };
}

/**
 * One consuming session; each delivery it takes names it as its `session`, so closing it hands
 * them back. Its leases last the `ackDeadlineMs` its consumer asked for (the subscription may have
 * been created, by a declaration or another consumer, with another).
 */
class MemorySubscription implements DriverSubscription {
  private readonly state: SubscriptionState;
  private readonly leaseMs: number;
  private readonly onClose: () => void;
  private closed = false;

  constructor(state: SubscriptionState, leaseMs: number, onClose: () => void) {
    this.state = state;
    this.leaseMs = leaseMs;
    this.onClose = onClose;
    state.sessions++;
  }

  receive(request: ReceiveRequest) {
    if (this.closed)
      return Promise.reject(
        new OmnibusError('Closed', 'the memory subscription is closed', { driver: 'memory' }),
      );
    return this.state.receive(request.maxMessages, this, this.leaseMs, request.signal);
  }
  async ack(handles: readonly unknown[]) {
    this.state.ack(handles);
    return undefined;
  }
  async nack(requests: readonly NackRequest[]) {
    for (const request of requests) this.state.nack(request.handle, request.delayMs);
    return undefined;
  }
  async release(requests: readonly ReleaseRequest[]) {
    for (const request of requests) this.state.release(request.handle);
    return undefined;
  }
  async extendLease(requests: readonly LeaseRequest[]) {
    for (const request of requests) this.state.extendLease(request.handle, request.leaseMs);
    return undefined;
  }
  async deadLetter(requests: readonly DeadLetterRequest[]) {
    for (const request of requests)
      this.state.deadLetter(request.handle, request.reason, request.attempts);
    return undefined;
  }
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.state.sessions--;
    this.state.closeSession(this);
    this.onClose();
  }
}

/**
 * `connect('memory://')` → a new isolated broker; `connect('memory://NAME')` → the shared one.
 * `operationTimeoutMs` is checked as every adapter checks it (memory never waits on a network), and
 * any other parameter is refused: memory accepts no URL another adapter would reject.
 * @throws `Config` for a bad `operationTimeoutMs` or an unknown parameter
 */
export function fromUrl(url: URL): DriverV2 {
  checkUrlParameters(url, { adapter: 'memory', known: ['operationTimeoutMs'] });
  readOperationTimeout(url);
  return memory({ name: decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, '')) });
}

export default memory;
