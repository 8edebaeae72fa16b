// Publish batching: sends made in the same tick go to the driver in driver-sized batches per topic.
import type { RetryBudget } from './backoff.js';
import { callBatch, messageBytes } from './batch-call.js';
import type { DriverV2, OutgoingMessage } from './driver.js';
import { type OmnibusError, toOmnibusError } from './errors.js';

/** One `send` or `sendBatch` call waiting for its messages to be confirmed. */
interface Pending {
  readonly messages: readonly OutgoingMessage[];
  readonly budget: RetryBudget;
  /** Messages not yet confirmed. */
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Coalesces sends made in the same tick into driver-sized batches per topic
 * (`capabilities.batch.publish`: messages and, where declared, bytes), so concurrent `send` calls
 * cost one broker round trip per batch instead of one per message. A batch the driver reports
 * partly failed is retried with the failed entries alone (see {@link callBatch}); each `send`
 * resolves as soon as its own messages landed, and rejects with the error of one that did not.
 */
export class PublishBatcher {
  private readonly driver: DriverV2;
  private readonly queues = new Map<string, Pending[]>();
  private scheduled = false;
  private readonly sending = new Set<Promise<void>>();
  /** Messages handed to the batcher and not yet confirmed or failed. */
  inFlight = 0;
  private readonly onIdle: () => void;

  constructor(driver: DriverV2, onIdle: () => void) {
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
      group.push({
        messages,
        budget,
        remaining: messages.length,
        settled: false,
        resolve,
        reject,
      });
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
    const { maxMessages, maxBytes } = this.driver.capabilities.batch.publish;
    const size = Math.max(1, maxMessages);
    for (const [topic, queue] of this.queues) {
      this.queues.delete(topic);
      const only = queue.length === 1 ? queue[0]! : undefined;
      if (only !== undefined && maxBytes === undefined && only.messages.length <= size) {
        // One send this tick, within one batch (a lone send(), or a sendBatch): its own array goes
        // to the driver, with no copy and no per-message owner list.
        this.send(topic, only.messages, () => only, only.budget);
        continue;
      }
      let chunk: OutgoingMessage[] = [];
      // The send each message of the chunk belongs to, by index.
      let owners: Pending[] = [];
      let bytes = 0;
      for (const pending of queue) {
        for (const message of pending.messages) {
          if (maxBytes !== undefined) {
            const weight = messageBytes(message);
            if (chunk.length > 0 && bytes + weight > maxBytes) {
              this.sendChunk(topic, chunk, owners);
              chunk = [];
              owners = [];
              bytes = 0;
            }
            bytes += weight;
          }
          chunk.push(message);
          owners.push(pending);
          if (chunk.length === size) {
            this.sendChunk(topic, chunk, owners);
            chunk = [];
            owners = [];
            bytes = 0;
          }
        }
      }
      if (chunk.length > 0) this.sendChunk(topic, chunk, owners);
    }
  }

  /** Sends coalesced in one tick share a chunk; the earliest deadline among them bounds it. */
  private sendChunk(topic: string, chunk: OutgoingMessage[], owners: Pending[]): void {
    let earliest = owners[0]!.budget;
    for (const owner of owners)
      if (owner.budget.deadlineAt < earliest.deadlineAt) earliest = owner.budget;
    this.send(topic, chunk, (index) => owners[index]!, earliest);
  }

  private send(
    topic: string,
    chunk: readonly OutgoingMessage[],
    ownerOf: (index: number) => Pending,
    budget: RetryBudget,
  ): void {
    const sending = callBatch(
      chunk,
      (messages) => this.driver.publish(topic, messages),
      (error) => toOmnibusError(error, this.driver, `publish to topic "${topic}" failed`),
      budget,
      (index: number, error: OmnibusError | undefined) => {
        this.inFlight--;
        const owner = ownerOf(index);
        if (owner.settled) return;
        if (error !== undefined) {
          owner.settled = true;
          owner.reject(error);
        } else if (--owner.remaining === 0) {
          owner.settled = true;
          owner.resolve();
        }
      },
    ).finally(() => {
      this.sending.delete(sending);
      if (this.inFlight === 0) this.onIdle();
    });
    this.sending.add(sending);
  }
}
