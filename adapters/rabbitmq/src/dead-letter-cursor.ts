// The DLQ cursor (openDeadLetters): basic.get without auto-ack on a channel of its own; redrive publishes then acks.

import { setTimeout as delay } from 'node:timers/promises';
import { OmnibusError } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterCursor,
  HeldDeadLetter,
  SubscriptionRef,
} from '@omnibus/core/driver';
import type { Channel, GetMessage } from 'amqplib';
import { bounded } from './bounded.js';
import { deadLetterQueue, subscriptionQueue } from './broker-names.js';
import type { ConfirmPublisher } from './confirm-publisher.js';
import { take } from './dead-letter-admin.js';
import { redriveOptions, toStoredDeadLetter } from './message-mapping.js';
import type { Topology } from './topology.js';

/** How often a closing cursor checks that its letters are back in the DLQ, in ms. */
const REQUEUE_POLL_MS = 10;

/** What a cursor needs from its driver. */
export interface DeadLetterCursorContext {
  readonly topology: Topology;
  readonly publisher: ConfirmPublisher;
  /** The DLQ's message count, `NotFound` if the subscription doesn't exist (the admin's count). */
  count(ref: SubscriptionRef): Promise<number>;
  /** Bound on one call (80 % of operationTimeoutMs). */
  readonly callTimeoutMs: number;
  readonly driverName: string;
}

/**
 * Opens a cursor on the subscription's DLQ. AMQP can't browse, so `next` takes letters with
 * `basic.get` (no auto-ack) on a channel of the cursor's own and holds them unacked: nobody else
 * gets them meanwhile, and closing the channel (`close`, or a lost connection) hands every one not
 * settled back to the DLQ, in place. Redrive publishes copies to the subscription's queue through
 * the default exchange on the driver's confirm channel, awaits the confirms, then acks the letters;
 * discard acks them. A pass takes at most the letters the DLQ held when it opened; a letter
 * redriven and dead-lettered again meanwhile is core's to recognise (by its dead-letter time and
 * redrive count), not this cursor's: an id alone can't tell it from the same message dead-lettered
 * twice, which must be handed out too.
 */
export async function openDeadLetterCursor(
  context: DeadLetterCursorContext,
  ref: SubscriptionRef,
): Promise<DeadLetterCursor> {
  const { topology, publisher, callTimeoutMs, driverName } = context;
  let budget = await context.count(ref);
  const channel: Channel | undefined = budget > 0 ? await topology.openChannel() : undefined;
  let channelOpen = channel !== undefined;
  channel?.on('close', () => {
    channelOpen = false;
  });
  const dlq = deadLetterQueue(ref);
  const queue = subscriptionQueue(ref);
  /** Letters handed out and neither redriven nor discarded: what closing gives back. */
  let unsettled = 0;
  let done = channel === undefined;

  const heldChannel = (): Channel => {
    if (channel === undefined || !channelOpen) {
      throw new OmnibusError(
        'Unavailable',
        `the DLQ cursor on subscription "${ref.subscription}" of topic "${ref.topic}" lost its channel (connection lost or cursor closed): its unsettled letters are back in the DLQ; open a new cursor`,
        { driver: driverName },
      );
    }
    return channel;
  };
  const messageOf = (letter: HeldDeadLetter) => letter.handle as GetMessage;
  /** A round trip on the channel after acks: the broker has processed them when it answers. */
  const settleAcks = async (open: Channel) => {
    await bounded(open.checkQueue(dlq), callTimeoutMs, driverName);
  };

  return {
    async next(maxMessages) {
      if (done || maxMessages <= 0) return [];
      const open = heldChannel();
      const messages = await bounded(
        take(open, ref, Math.min(Math.floor(maxMessages), budget)),
        callTimeoutMs,
        driverName,
      );
      const letters: HeldDeadLetter[] = [];
      for (const message of messages) {
        budget--;
        unsettled++;
        letters.push({ ...toStoredDeadLetter(message), handle: message });
      }
      if (budget <= 0 || messages.length < maxMessages) done = true;
      return letters;
    },

    async redrive(letters): Promise<BatchResult | undefined> {
      if (letters.length === 0) return undefined;
      const open = heldChannel();
      const result = await publisher.publishBatch(
        letters.map((letter) => {
          const message = messageOf(letter);
          return {
            exchange: '',
            routingKey: queue,
            content: message.content,
            options: redriveOptions(message),
          };
        }),
      );
      const refused = new Set(result?.failed.map((failure) => failure.index));
      // Acked only once their copies were confirmed: a crash in between duplicates, never loses.
      letters.forEach((letter, index) => {
        if (refused.has(index)) return;
        open.ack(messageOf(letter));
        unsettled--;
      });
      await settleAcks(open);
      return result;
    },

    async discard(letters): Promise<BatchResult | undefined> {
      if (letters.length === 0) return undefined;
      const open = heldChannel();
      for (const letter of letters) open.ack(messageOf(letter));
      unsettled -= letters.length;
      await settleAcks(open);
      return undefined;
    },

    async close() {
      done = true;
      if (channel === undefined || !channelOpen) return;
      channelOpen = false;
      const ready = unsettled > 0 ? await readyCount(channel, dlq) : undefined;
      await channel.close().catch(() => undefined);
      // The broker requeues a closed channel's unacked messages after answering close-ok (a quorum
      // queue through its log): wait until they are counted again, so that a pass opened right after
      // this one sees them. Bounded: a DLQ drained meanwhile by someone else must not hang close.
      if (ready !== undefined)
        await requeued(() => context.count(ref), ready + unsettled, callTimeoutMs);
    },
  };
}

/** The DLQ's ready count, read on the cursor's own channel; undefined if it can't tell. */
async function readyCount(channel: Channel, dlq: string): Promise<number | undefined> {
  try {
    return (await channel.checkQueue(dlq)).messageCount;
  } catch {
    return undefined;
  }
}

/** Polls `count` until it reaches `target` or `withinMs` passed; a failed read ends the wait. */
async function requeued(
  count: () => Promise<number>,
  target: number,
  withinMs: number,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const now = await count().catch(() => undefined);
    if (now === undefined || now >= target) return;
    await delay(REQUEUE_POLL_MS);
  }
}
