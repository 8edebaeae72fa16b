// The DLQ admin calls (peek, count, redrive, purge, the cursor), all through the DLQ's reader subscription.
import type {
  BatchResult,
  DeadLetterCursor,
  HeldDeadLetter,
  StoredDeadLetter,
  SubscriptionRef,
} from '@omnibus/core/driver';
import type { ResourcePaths } from './broker-names.js';
import { GRPC, grpcCode } from './classify-error.js';
import type { Clients } from './clients.js';
import { type PulledMessage, toRedriveMessage, toStoredDeadLetter } from './message-mapping.js';
import type { Publisher } from './publisher.js';
import { ackDeadlineSeconds, SERVICE_LIMITS } from './service-limits.js';
import { acknowledge, modifyAckDeadline } from './settle.js';
import type { Topology } from './topology.js';

/** Lease on letters a peek, count, redrive or purge holds while it works, in seconds. */
const ADMIN_LEASE_SECONDS = 60;

/** Most letters one peek, count or redrive pass holds at once. */
const MAX_HELD = 100_000;

/**
 * Pub/Sub has no browse: reading the DLQ is pulling its reader subscription (`peek` is
 * count-bumping), and the service hands pulled messages out in no guaranteed order. So peek, count
 * and redrive pull what is there (`returnImmediately`, until a pull comes back empty), hold it,
 * sort it oldest first where order matters, and hand back (`modifyAckDeadline 0`) what they don't
 * settle. `returnImmediately` may come back empty while messages exist on the real service, and
 * letters another reader holds are not seen: the count is `approximate`.
 */
export class DeadLetterAdmin {
  readonly #clients: Clients;
  readonly #paths: ResourcePaths;
  readonly #topology: Topology;
  readonly #publisher: Publisher;

  constructor(clients: Clients, paths: ResourcePaths, topology: Topology, publisher: Publisher) {
    this.#clients = clients;
    this.#paths = paths;
    this.#topology = topology;
    this.#publisher = publisher;
  }

  /** One pull of the DLQ reader; `undefined` when the subscription has no DLQ (NotFound when it doesn't exist). */
  async #pull(ref: SubscriptionRef, maxMessages: number): Promise<PulledMessage[] | undefined> {
    try {
      const [response] = await this.#clients.call((options) =>
        this.#clients.subscriber.pull(
          {
            subscription: this.#paths.deadLetterSubscription(ref),
            maxMessages: Math.min(maxMessages, SERVICE_LIMITS.messagesPerPublish),
            returnImmediately: true,
          },
          options,
        ),
      );
      return response.receivedMessages ?? [];
    } catch (error) {
      if (grpcCode(error) !== GRPC.NOT_FOUND) throw error;
      // No DLQ reader: a subscription without a DLQ (deadLetter: false) has no letters, one that
      // doesn't exist is NotFound.
      await this.#topology.subscription(ref);
      return undefined;
    }
  }

  /** Pulls every letter there is (up to `MAX_HELD`), each once, leased for the admin lease. */
  async #pullAll(ref: SubscriptionRef): Promise<PulledMessage[]> {
    const held: PulledMessage[] = [];
    const seen = new Set<string>();
    while (held.length < MAX_HELD) {
      const batch = await this.#pull(ref, SERVICE_LIMITS.messagesPerPublish);
      if (batch === undefined || batch.length === 0) break;
      let fresh = 0;
      for (const pulled of batch) {
        const id = pulled.message?.messageId ?? '';
        if (seen.has(id)) continue;
        seen.add(id);
        held.push(pulled);
        fresh++;
      }
      if (fresh === 0) break;
    }
    if (held.length > 0) {
      await modifyAckDeadline(
        this.#clients,
        this.#paths.deadLetterSubscription(ref),
        held.map((m) => m.ackId ?? ''),
        ADMIN_LEASE_SECONDS,
      );
    }
    return held;
  }

  async #handBack(ref: SubscriptionRef, pulled: readonly PulledMessage[]): Promise<void> {
    if (pulled.length === 0) return;
    await modifyAckDeadline(
      this.#clients,
      this.#paths.deadLetterSubscription(ref),
      pulled.map((m) => m.ackId ?? ''),
      0,
    );
  }

  async #ack(ref: SubscriptionRef, pulled: readonly PulledMessage[]): Promise<void> {
    if (pulled.length === 0) return;
    await acknowledge(
      this.#clients,
      this.#paths.deadLetterSubscription(ref),
      pulled.map((m) => m.ackId ?? ''),
    );
  }

  /** Letters with their pulled message, oldest first (dead-lettered at, then published at). */
  #oldestFirst(
    pulled: readonly PulledMessage[],
  ): { letter: StoredDeadLetter; pulled: PulledMessage }[] {
    return pulled
      .map((m) => ({ letter: toStoredDeadLetter(m), pulled: m }))
      .sort(
        (a, b) =>
          a.letter.deadLetteredAt - b.letter.deadLetteredAt ||
          a.letter.publishedAt - b.letter.publishedAt,
      );
  }

  async peek(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]> {
    const pulled = await this.#pullAll(ref);
    try {
      return this.#oldestFirst(pulled)
        .slice(0, limit)
        .map((entry) => entry.letter);
    } finally {
      await this.#handBack(ref, pulled);
    }
  }

  async count(ref: SubscriptionRef): Promise<number> {
    const pulled = await this.#pullAll(ref);
    await this.#handBack(ref, pulled);
    return pulled.length;
  }

  /** Re-publishes up to `limit` letters present when the call started to the topic, then acks them. */
  async redrive(ref: SubscriptionRef, limit: number): Promise<number> {
    const startedAt = Date.now();
    const pulled = await this.#pullAll(ref);
    const ordered = this.#oldestFirst(pulled);
    const chosen = ordered
      .filter((entry) => entry.letter.deadLetteredAt <= startedAt)
      .slice(0, Math.max(0, limit));
    const chosenSet = new Set(chosen.map((entry) => entry.pulled));
    const rest = pulled.filter((m) => !chosenSet.has(m));
    try {
      for (let start = 0; start < chosen.length; start += SERVICE_LIMITS.messagesPerPublish) {
        const part = chosen.slice(start, start + SERVICE_LIMITS.messagesPerPublish);
        await this.#publisher.publish(
          this.#paths.topic(ref.topic),
          part.map((entry) => toRedriveMessage(entry.letter)),
        );
        // At least once: the copies are accepted before the letters leave the DLQ.
        await this.#ack(
          ref,
          part.map((entry) => entry.pulled),
        );
      }
    } finally {
      await this.#handBack(ref, rest).catch(() => undefined);
    }
    return chosen.length;
  }

  async purge(ref: SubscriptionRef): Promise<number> {
    let purged = 0;
    for (;;) {
      const batch = await this.#pull(ref, SERVICE_LIMITS.messagesPerPublish);
      if (batch === undefined || batch.length === 0) return purged;
      await this.#ack(ref, batch);
      purged += batch.length;
    }
  }

  /** A cursor over the DLQ reader: pull pages, settle letter by letter, hand back the rest on close. */
  async open(ref: SubscriptionRef, leaseMs: number): Promise<DeadLetterCursor> {
    // Fails NotFound before any letter is read when the subscription doesn't exist.
    await this.#topology.subscription(ref);
    const leaseSeconds = Math.max(
      SERVICE_LIMITS.ackDeadlineMinSeconds,
      ackDeadlineSeconds(leaseMs),
    );
    const seen = new Set<string>();
    const held = new Map<string, PulledMessage>();
    let closed = false;
    const handleOf = (letter: HeldDeadLetter) => letter.handle as string;
    const settle = async (letters: readonly HeldDeadLetter[]) => {
      const pulled = letters
        .map((letter) => held.get(handleOf(letter)))
        .filter((m): m is PulledMessage => m !== undefined);
      await this.#ack(ref, pulled);
      for (const letter of letters) held.delete(handleOf(letter));
    };
    return {
      next: async (maxMessages) => {
        if (closed) return [];
        const batch = await this.#pull(ref, maxMessages);
        if (batch === undefined || batch.length === 0) return [];
        const fresh = batch.filter((m) => !seen.has(m.message?.messageId ?? ''));
        const repeated = batch.filter((m) => seen.has(m.message?.messageId ?? ''));
        // A letter this cursor handed out already (its lease ran out) is not handed out again.
        await this.#handBack(ref, repeated);
        if (fresh.length === 0) return [];
        await modifyAckDeadline(
          this.#clients,
          this.#paths.deadLetterSubscription(ref),
          fresh.map((m) => m.ackId ?? ''),
          leaseSeconds,
        );
        return fresh.map((m) => {
          seen.add(m.message?.messageId ?? '');
          const ackId = m.ackId ?? '';
          held.set(ackId, m);
          return { ...toStoredDeadLetter(m), handle: ackId };
        });
      },
      redrive: async (letters): Promise<BatchResult | undefined> => {
        if (letters.length === 0) return undefined;
        await this.#publisher.publish(
          this.#paths.topic(ref.topic),
          letters.map((letter) => toRedriveMessage(letter)),
        );
        await settle(letters);
        return undefined;
      },
      discard: async (letters): Promise<BatchResult | undefined> => {
        await settle(letters);
        return undefined;
      },
      close: async () => {
        if (closed) return;
        closed = true;
        const rest = [...held.values()];
        held.clear();
        await this.#handBack(ref, rest).catch(() => undefined);
      },
    };
  }
}
