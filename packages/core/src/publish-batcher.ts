// Publish batching: sends made in the same tick go to the driver in driver-sized batches per topic.
import { type RetryBudget, withRetries } from './backoff.js';
import type { DriverV1, OutgoingMessage } from './driver.js';
import { toOmnibusError } from './errors.js';

/** One `send` or `sendBatch` call waiting for its messages to be confirmed. */
interface Pending {
  readonly messages: readonly OutgoingMessage[];
  readonly budget: RetryBudget;
  /** Driver batches still unconfirmed. */
  chunks: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Coalesces sends made in the same tick into driver-sized batches per topic, so concurrent `send`
 * calls cost one broker round trip per batch instead of one per message.
 */
export class PublishBatcher {
  private readonly driver: DriverV1;
  private readonly queues = new Map<string, Pending[]>();
  private scheduled = false;
  private readonly sending = new Set<Promise<void>>();
  /** Messages handed to the batcher and not yet confirmed or failed. */
  inFlight = 0;
  private readonly onIdle: () => void;

  constructor(driver: DriverV1, onIdle: () => void) {
    this.driver = driver;
    this.onIdle = onIdle;
  }

  /** Resolves once the broker accepted every one of `messages`. */
  publish(topic: string, messages: readonly OutgoingMessage[], budget: RetryBudget): Promise<void> {
    let queue = this.queues.get(topic);
    if (queue === undefined) {
      queue = [];
      this.queues.set(topic, queue);
    }
    const group = queue;
    this.inFlight += messages.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return new Promise<void>((resolve, reject) => {
      group.push({ messages, budget, chunks: 0, settled: false, resolve, reject });
    });
  }

  /** Resolves once every message handed over so far was confirmed or failed. */
  async drain(): Promise<void> {
    do {
      await Promise.resolve();
      await Promise.allSettled([...this.sending]);
    } while (this.scheduled || this.sending.size > 0);
  }

  private flush(): void {
    this.scheduled = false;
    const size = this.driver.capabilities.maxBatchSize;
    for (const [topic, queue] of this.queues) {
      this.queues.delete(topic);
      let chunk: OutgoingMessage[] = [];
      let owners = new Set<Pending>();
      for (const pending of queue) {
        for (const message of pending.messages) {
          if (!owners.has(pending)) {
            owners.add(pending);
            pending.chunks++;
          }
          chunk.push(message);
          if (chunk.length === size) {
            this.send(topic, chunk, owners);
            chunk = [];
            owners = new Set();
          }
        }
      }
      if (chunk.length > 0) this.send(topic, chunk, owners);
    }
  }

  private send(topic: string, chunk: OutgoingMessage[], owners: Set<Pending>): void {
    // Sends coalesced in one tick share a chunk; the earliest deadline among them bounds it.
    let earliest: RetryBudget | undefined;
    for (const owner of owners)
      if (earliest === undefined || owner.budget.deadlineAt < earliest.deadlineAt)
        earliest = owner.budget;
    const sending = withRetries(
      () => this.driver.publish(topic, chunk),
      (error) => toOmnibusError(error, this.driver, `publish to topic "${topic}" failed`),
      earliest!,
    )
      .then(
        () => {
          for (const owner of owners) {
            if (--owner.chunks === 0 && !owner.settled) {
              owner.settled = true;
              owner.resolve();
            }
          }
        },
        (error: unknown) => {
          for (const owner of owners) {
            if (owner.settled) continue;
            owner.settled = true;
            owner.reject(error);
          }
        },
      )
      .finally(() => {
        this.sending.delete(sending);
        this.inFlight -= chunk.length;
        if (this.inFlight === 0) this.onIdle();
      });
    this.sending.add(sending);
  }
}
