// The DLQ admin calls: peek (get and requeue), count, redrive to one subscription, purge.
import { subscriptionNotFound } from '@omnibus/core';
import type { StoredDeadLetter, SubscriptionRef } from '@omnibus/core/driver';
import type { Channel, GetMessage } from 'amqplib';
import { deadLetterQueue, subscriptionQueue } from './broker-names.js';
import { classifyError } from './classify-error.js';
import type { ConfirmPublisher } from './confirm-publisher.js';
import { redriveOptions, toStoredDeadLetter } from './message-mapping.js';
import type { PendingDeadLetters } from './pending-dead-letters.js';
import type { Topology } from './topology.js';

/** Dead letters moved per round of a redrive: taken, copied, confirmed, then acked together. */
const REDRIVE_BATCH = 100;

/**
 * The DLQ admin calls on one subscription's DLQ, a classic queue (see `queue-arguments.ts`):
 * AMQP can't browse, so a peek takes messages with `basic.get` and gives them all back at once,
 * which a classic queue puts back in their places (non-destructive; they are only unavailable to
 * a concurrent redrive or purge for the moment they are out).
 */
export class DeadLetterAdmin {
  constructor(
    private readonly topology: Topology,
    private readonly publisher: ConfirmPublisher,
    /** This driver's dead-lettering in progress: every call waits for it on its DLQ first. */
    private readonly pending: PendingDeadLetters,
    private readonly driverName: string,
  ) {}

  async peek(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]> {
    if ((await this.count(ref)) === 0 || limit <= 0) return [];
    return this.topology.withChannel(async (channel) => {
      const messages = await take(channel, ref, limit);
      if (messages.length > 0) channel.nackAll(true);
      return messages.map((message) => toStoredDeadLetter(message));
    });
  }

  /** DLQ count, 0 when the subscription has no DLQ, NotFound when the subscription doesn't exist. */
  async count(ref: SubscriptionRef): Promise<number> {
    const dlq = deadLetterQueue(ref);
    const count = await this.pending.read(dlq, () => this.topology.queueCount(dlq));
    if (count !== undefined) return count;
    if ((await this.topology.queueCount(subscriptionQueue(ref))) === undefined)
      throw subscriptionNotFound(ref, this.driverName);
    return 0;
  }

  /**
   * Moves up to `limit` dead letters back to this subscription's queue only (through the default
   * exchange), attempts starting over, redrive count one higher. Only what is there when the call starts: a redriven message
   * that fails again is dead-lettered behind these (the DLQ is FIFO), and taking it again would
   * loop for as long as it keeps failing.
   */
  async redrive(ref: SubscriptionRef, limit: number): Promise<number> {
    const present = Math.min(limit, await this.count(ref));
    if (present === 0) return 0;
    const queue = subscriptionQueue(ref);
    let moved = 0;
    while (moved < present) {
      const batch = await this.topology.withChannel(async (channel) => {
        const messages = await take(channel, ref, Math.min(REDRIVE_BATCH, present - moved));
        if (messages.length === 0) return 0;
        try {
          await this.publisher.publish(
            messages.map((message) => ({
              exchange: '',
              routingKey: queue,
              content: message.content,
              options: redriveOptions(message),
            })),
          );
        } catch (error) {
          channel.nackAll(true);
          throw error;
        }
        // Acked only after the copies were confirmed: a crash in between duplicates, never loses.
        channel.ackAll();
        return messages.length;
      });
      if (batch === 0) break;
      moved += batch;
    }
    return moved;
  }

  async purge(ref: SubscriptionRef): Promise<number | undefined> {
    const dlq = deadLetterQueue(ref);
    await this.pending.settled(dlq);
    try {
      return (await this.topology.withChannel((channel) => channel.purgeQueue(dlq))).messageCount;
    } catch (error) {
      if (classifyError(error)?.code !== 'NotFound') throw error;
      if ((await this.topology.queueCount(subscriptionQueue(ref))) === undefined)
        throw subscriptionNotFound(ref, this.driverName);
      return 0;
    }
  }
}

/** Takes up to `limit` DLQ messages with `basic.get`, unacked, on `channel`; oldest first. */
export async function take(
  channel: Channel,
  ref: SubscriptionRef,
  limit: number,
): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  const dlq = deadLetterQueue(ref);
  while (messages.length < limit) {
    const message = await channel.get(dlq, { noAck: false });
    if (message === false) break;
    messages.push(message);
  }
  return messages;
}
