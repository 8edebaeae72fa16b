// acknowledge and modifyAckDeadline in requests within the service's ack-id byte limit.
import type { Clients } from './clients.js';
import { SERVICE_LIMITS } from './service-limits.js';

/** Splits ack ids so each request stays within the service's 512 KiB of ack ids. */
function chunks(ackIds: readonly string[]): string[][] {
  const out: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const ackId of ackIds) {
    const size = Buffer.byteLength(ackId) + 8;
    if (chunk.length > 0 && bytes + size > SERVICE_LIMITS.ackIdBytesPerRequest) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(ackId);
    bytes += size;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** Acknowledges ack ids of one subscription. */
export async function acknowledge(
  clients: Clients,
  subscription: string,
  ackIds: readonly string[],
): Promise<void> {
  await Promise.all(
    chunks(ackIds).map((part) =>
      clients.call((options) =>
        clients.subscriber.acknowledge({ subscription, ackIds: part }, options),
      ),
    ),
  );
}

/** Sets the ack deadline of ack ids of one subscription, in seconds (0: redeliver now). */
export async function modifyAckDeadline(
  clients: Clients,
  subscription: string,
  ackIds: readonly string[],
  ackDeadlineSeconds: number,
): Promise<void> {
  await Promise.all(
    chunks(ackIds).map((part) =>
      clients.call((options) =>
        clients.subscriber.modifyAckDeadline(
          { subscription, ackIds: part, ackDeadlineSeconds },
          options,
        ),
      ),
    ),
  );
}

/** Groups entries by a number (the deadline in seconds), for one modifyAckDeadline per group. */
export function groupBy<T>(entries: readonly T[], key: (entry: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const entry of entries) {
    const k = key(entry);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [entry]);
    else group.push(entry);
  }
  return groups;
}

/** Ack ids waiting to go out, and how to tell their caller how it went. */
interface WaitingAck {
  readonly ackIds: readonly string[];
  readonly done: (error?: unknown) => void;
}

/** Ack ids one merged acknowledge takes at most: core's settle batch, so merging never splits more. */
const MERGED_ACK_IDS = 1_000;

/**
 * Acknowledges of one subscription, merged under load: while `maxInFlight` requests are on the
 * wire, later acks wait and go out together when one comes back. An idle subscription's ack
 * leaves at once; a draining one's take a request per round trip, not one per batch core settles.
 * Each caller's promise settles with the request that carried its ack ids.
 */
export class AckMerger {
  readonly #clients: Clients;
  readonly #subscription: string;
  readonly #maxInFlight: number;
  #waiting: WaitingAck[] = [];
  #inFlight = 0;

  constructor(clients: Clients, subscription: string, maxInFlight: number) {
    this.#clients = clients;
    this.#subscription = subscription;
    this.#maxInFlight = maxInFlight;
  }

  acknowledge(ackIds: readonly string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({
        ackIds,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      });
      this.#send();
    });
  }

  #send(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch: WaitingAck[] = [];
      let count = 0;
      while (this.#waiting.length > 0) {
        const next = this.#waiting[0]!;
        if (batch.length > 0 && count + next.ackIds.length > MERGED_ACK_IDS) break;
        batch.push(next);
        count += next.ackIds.length;
        this.#waiting.shift();
      }
      this.#inFlight++;
      acknowledge(
        this.#clients,
        this.#subscription,
        batch.flatMap((entry) => entry.ackIds),
      ).then(
        () => this.#finish(batch, undefined),
        (error: unknown) => this.#finish(batch, error ?? new Error('acknowledge failed')),
      );
    }
  }

  #finish(batch: readonly WaitingAck[], error: unknown): void {
    this.#inFlight--;
    for (const entry of batch) entry.done(error);
    this.#send();
  }
}
