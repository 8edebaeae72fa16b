import { OmnibusError } from '@omnibus/core';
import type {
  Capabilities,
  DriverSubscription,
  DriverV1,
  OutgoingMessage,
  ReceiveRequest,
  SubscriptionSpec,
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
 * minutes, the strictest broker that has them.
 */
export const MEMORY_CAPABILITIES: Capabilities = Object.freeze({
  fanout: true,
  ordering: true,
  delayedDelivery: 15 * 60_000,
  nativeDeadLetter: true,
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 1_000,
  stats: Object.freeze({ waiting: true, inFlight: true, deadLettered: true }),
  ackDeadline: Object.freeze({ minMs: 10_000, maxMs: 600_000 }),
  leaseExtension: 'native',
});

// On globalThis, so every copy of this package loaded in a process (dist and source, ESM and a
// bundled copy) shares one registry: `memory://NAME` must mean the same broker everywhere.
const REGISTRY = Symbol.for('omnibus.memory.brokers');
const namedBrokers: Map<string, MemoryBroker> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as Map<string, MemoryBroker> | undefined) ??
  new Map<string, MemoryBroker>();
(globalThis as Record<symbol, unknown>)[REGISTRY] = namedBrokers;

/** Creates an in-memory driver: `connect(memory())`, or `connect(memory({ name: 'shared' }))`. */
export function memory(options: MemoryOptions = {}): DriverV1 {
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

  function existing(spec: SubscriptionSpec): SubscriptionState {
    const state = broker.subscription(spec);
    if (state === undefined) {
      throw new OmnibusError(
        'NotFound',
        `subscription "${spec.subscription}" on topic "${spec.topic}" does not exist`,
        { driver: 'memory' },
      );
    }
    return state;
  }

  function assertOpen(): void {
    if (closed)
      throw new OmnibusError('Closed', 'the memory driver is closed', { driver: 'memory' });
  }

  return {
    specificationVersion: 'v1',
    name: 'memory',
    capabilities: MEMORY_CAPABILITIES,
    native: broker,
    async ensureTopic(topic: string) {
      assertOpen();
      broker.ensureTopic(topic);
    },
    async ensureSubscription(spec: SubscriptionSpec) {
      assertOpen();
      broker.ensureSubscription(spec);
    },
    async publish(topic: string, messages: readonly OutgoingMessage[]) {
      assertOpen();
      broker.publish(topic, messages);
    },
    async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
      assertOpen();
      const session = new MemorySubscription(existing(spec), () => sessions.delete(session));
      sessions.add(session);
      return session;
    },
    async stats(spec) {
      assertOpen();
      return existing(spec).stats();
    },
    async peekDeadLetters(spec, limit) {
      assertOpen();
      return existing(spec).peekDeadLetters(limit);
    },
    async countDeadLetters(spec) {
      assertOpen();
      return existing(spec).countDeadLetters();
    },
    async redriveDeadLetters(spec, limit) {
      assertOpen();
      return existing(spec).redrive(limit);
    },
    async purgeDeadLetters(spec) {
      assertOpen();
      return existing(spec).purge();
    },
    isIdle: () => broker.isIdle(),
    onChange: (listener) => broker.onChange(listener),
    async close() {
      if (closed) return;
      closed = true;
      // Like a dropped connection: what this driver's sessions still hold is redelivered.
      await Promise.all([...sessions].map((session) => session.close()));
      if (owned) broker.dispose();
    },
  };
}

/** One consuming session; it is also the `holder` that marks what it has in flight. */
class MemorySubscription implements DriverSubscription {
  private readonly state: SubscriptionState;
  private readonly onClose: () => void;
  private closed = false;

  constructor(state: SubscriptionState, onClose: () => void) {
    this.state = state;
    this.onClose = onClose;
    state.sessions++;
  }

  receive(request: ReceiveRequest) {
    if (this.closed)
      return Promise.reject(
        new OmnibusError('Closed', 'the memory subscription is closed', { driver: 'memory' }),
      );
    return this.state.receive(request.maxMessages, this, request.signal);
  }
  async ack(handles: readonly unknown[]) {
    this.state.ack(handles);
  }
  async nack(requests: Parameters<DriverSubscription['nack']>[0]) {
    for (const request of requests)
      this.state.nack(request.handle, request.delayMs, request.release === true);
  }
  async extendLease(requests: Parameters<DriverSubscription['extendLease']>[0]) {
    for (const request of requests) this.state.extendLease(request.handle, request.leaseMs);
  }
  async deadLetter(requests: Parameters<DriverSubscription['deadLetter']>[0]) {
    for (const request of requests)
      this.state.deadLetter(request.handle, request.reason, request.attempts);
  }
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.state.sessions--;
    this.state.closeSession(this);
    this.onClose();
  }
}

/** `connect('memory://')` → a new isolated broker; `connect('memory://NAME')` → the shared one. */
export function fromUrl(url: URL): DriverV1 {
  return memory({ name: decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, '')) });
}

export default memory;
