// The DLQ admin calls: peek and the cursor (receives: count-bumping), approximate count, redrive to the subscription's queue, purge.
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { WIRE } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterCursor,
  HeldDeadLetter,
  StoredDeadLetter,
  SubscriptionRef,
} from '@omnibus/core/driver';
import { BATCH_ENTRIES } from './capabilities.js';
import {
  copyMetadata,
  type DecodedMessage,
  decode,
  encode,
  metadataNumber,
} from './message-mapping.js';
import { deleteInBatches, type SendEntry, sendToQueue } from './publisher.js';
import type { Topology } from './topology.js';

/** A dead letter held by a receive on the DLQ. */
interface LetterHandle {
  readonly receiptHandle: string;
  readonly messageId: string;
  readonly decoded: DecodedMessage;
  readonly groupId: string | undefined;
}

type Failure = { index: number; error: unknown };

/** Metadata keys a dead letter has and a redriven message must not keep. */
const DEAD_LETTER_KEYS = [
  WIRE.deadLetterReason,
  WIRE.deadLetterAttempts,
  WIRE.deadLetteredAt,
  WIRE.sourceTopic,
  WIRE.sourceSubscription,
] as const;

/** Lease of letters a peek, redrive or purge holds while it works, seconds. */
const ADMIN_VISIBILITY_SECONDS = 60;

function toStored(message: Message, letter: LetterHandle): StoredDeadLetter {
  const { decoded } = letter;
  const metadata = decoded.metadata;
  return {
    id: decoded.id,
    body: decoded.body,
    attributes: decoded.attributes,
    contentType: decoded.contentType,
    publishedAt: decoded.publishedAt,
    orderingKey: decoded.orderingKey === decoded.id ? undefined : decoded.orderingKey,
    attempts:
      metadataNumber(metadata, WIRE.deadLetterAttempts) ??
      Number(message.Attributes?.ApproximateReceiveCount ?? 1),
    reason:
      metadata[WIRE.deadLetterReason] ??
      'dead-lettered by the SQS redrive policy (maxReceiveCount)',
    deadLetteredAt:
      metadataNumber(metadata, WIRE.deadLetteredAt) ??
      Number(message.Attributes?.SentTimestamp ?? Date.now()),
    redrives: Math.max(0, Math.floor(metadataNumber(metadata, WIRE.redrives) ?? 0)),
    native: message,
  };
}

export interface DeadLetterAdminOptions {
  readonly sqs: SQSClient;
  readonly topology: Topology;
  readonly fifo: boolean;
  readonly driverName: string;
}

const freshDeduplicationId = (id: string) =>
  `${id.slice(0, 64)}.r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

export class DeadLetterAdmin {
  constructor(private readonly options: DeadLetterAdminOptions) {}

  private get sqs(): SQSClient {
    return this.options.sqs;
  }

  /** The subscription's queue and DLQ URLs; NotFound when the subscription doesn't exist. */
  private async queues(ref: SubscriptionRef) {
    return this.options.topology.existing(ref);
  }

  /**
   * Receives up to `max` letters (one call ≤ 10), held for `visibilitySeconds`: a short poll, and
   * where it comes back empty while SQS still counts visible letters (a short poll samples only
   * some of SQS's servers), one 1-second long poll.
   */
  async take(
    url: string,
    max: number,
    visibilitySeconds: number,
  ): Promise<{ message: Message; letter: LetterHandle }[]> {
    const first = await this.receiveLetters(url, max, visibilitySeconds, 0);
    if (first.length > 0) return first;
    const visible = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    if (Number(visible.Attributes?.ApproximateNumberOfMessages ?? 0) === 0) return [];
    return this.receiveLetters(url, max, visibilitySeconds, 1);
  }

  private async receiveLetters(
    url: string,
    max: number,
    visibilitySeconds: number,
    waitSeconds: number,
  ): Promise<{ message: Message; letter: LetterHandle }[]> {
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.max(1, Math.min(BATCH_ENTRIES, max)),
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: visibilitySeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return (result.Messages ?? []).map((message) => ({
      message,
      letter: {
        receiptHandle: message.ReceiptHandle!,
        messageId: message.MessageId!,
        decoded: decode(message, undefined),
        groupId: message.Attributes?.MessageGroupId,
      },
    }));
  }

  /** Every letter there is now, held (up to `cap`), oldest dead-lettered first. */
  private async takeAll(url: string, cap: number) {
    const all: { message: Message; letter: LetterHandle }[] = [];
    const seen = new Set<string>();
    while (all.length < cap) {
      const page = await this.take(url, cap - all.length, ADMIN_VISIBILITY_SECONDS);
      const fresh = page.filter((entry) => !seen.has(entry.letter.messageId));
      if (fresh.length === 0) break;
      for (const entry of fresh) seen.add(entry.letter.messageId);
      all.push(...fresh);
    }
    return all.sort(
      (a, b) =>
        toStored(a.message, a.letter).deadLetteredAt - toStored(b.message, b.letter).deadLetteredAt,
    );
  }

  async peek(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]> {
    const { deadLetterUrl } = await this.queues(ref);
    if (deadLetterUrl === undefined || limit <= 0) return [];
    const count = await this.countAt(deadLetterUrl);
    if (count === 0) return [];
    const all = await this.takeAll(deadLetterUrl, Math.max(limit, count));
    // A peek is a receive: make them visible again at once (their receive count rose: count-bumping).
    await this.changeVisibility(
      deadLetterUrl,
      all.map((entry) => entry.letter),
      0,
    ).catch(() => undefined);
    return all.slice(0, limit).map((entry) => toStored(entry.message, entry.letter));
  }

  private async countAt(url: string): Promise<number> {
    const result = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const visible = Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
    const hidden = Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    return visible + hidden;
  }

  /** ApproximateNumberOfMessages plus those in flight (a peek or redrive holding them); 0 without a DLQ. */
  async count(ref: SubscriptionRef): Promise<number> {
    const { deadLetterUrl } = await this.queues(ref);
    return deadLetterUrl === undefined ? 0 : this.countAt(deadLetterUrl);
  }

  async redrive(ref: SubscriptionRef, limit: number): Promise<number> {
    const { url, deadLetterUrl } = await this.queues(ref);
    if (deadLetterUrl === undefined || limit <= 0) return 0;
    // Only what is there now: a letter dead-lettered again during the redrive stays.
    const present = await this.countAt(deadLetterUrl);
    if (present === 0) return 0;
    const all = await this.takeAll(deadLetterUrl, present);
    const chosen = all.slice(0, limit).map((entry) => entry.letter);
    await this.changeVisibility(
      deadLetterUrl,
      all.slice(limit).map((entry) => entry.letter),
      0,
    ).catch(() => undefined);
    let moved = 0;
    for (let start = 0; start < chosen.length; start += BATCH_ENTRIES) {
      const chunk = chosen.slice(start, start + BATCH_ENTRIES);
      const failed = await this.moveBack(url, deadLetterUrl, chunk);
      moved += chunk.length - failed.length;
    }
    return moved;
  }

  /** Copies letters to the subscription's queue (attempts from 1, redrives + 1), then deletes them from the DLQ. */
  private async moveBack(
    url: string,
    deadLetterUrl: string,
    letters: readonly LetterHandle[],
  ): Promise<Failure[]> {
    const entries: SendEntry[] = letters.map((letter) => {
      const changes: Record<string, string> = {
        [WIRE.attempts]: '0',
        [WIRE.redrives]: String(
          Math.max(0, Math.floor(metadataNumber(letter.decoded.metadata, WIRE.redrives) ?? 0)) + 1,
        ),
      };
      const metadata = copyMetadata(letter.decoded, changes);
      for (const key of DEAD_LETTER_KEYS) delete metadata[key];
      // FIFO: the key travels as MessageGroupId again.
      if (this.options.fifo) delete metadata[WIRE.orderingKey];
      return {
        encoded: encode(
          letter.decoded.body,
          letter.decoded.attributes,
          metadata,
          letter.decoded.traceparent,
        ),
        groupId: this.options.fifo
          ? (letter.decoded.metadata[WIRE.orderingKey] ?? letter.groupId ?? letter.decoded.id)
          : undefined,
        deduplicationId: this.options.fifo ? freshDeduplicationId(letter.decoded.id) : undefined,
      };
    });
    const maxBytes = await this.options.topology.maxMessageSize(url);
    const sent = await sendToQueue(this.sqs, url, entries, maxBytes, this.options.driverName);
    const failed = [...(sent?.failed ?? [])];
    // At least once: a letter leaves the DLQ only after its copy was accepted.
    const copied = letters.filter((_, index) => !failed.some((entry) => entry.index === index));
    const deleteFailed = await this.delete(deadLetterUrl, copied);
    return [
      ...failed,
      ...deleteFailed.map((entry) => ({
        index: letters.indexOf(copied[entry.index]!),
        error: entry.error,
      })),
    ];
  }

  async purge(ref: SubscriptionRef): Promise<number | undefined> {
    const { deadLetterUrl } = await this.queues(ref);
    if (deadLetterUrl === undefined) return 0;
    // Receive and delete rather than PurgeQueue: SQS allows one purge per queue per 60 s and can't say how many it removed.
    let deleted = 0;
    for (;;) {
      const page = await this.take(deadLetterUrl, BATCH_ENTRIES, ADMIN_VISIBILITY_SECONDS);
      if (page.length === 0) return deleted;
      const failed = await this.delete(
        deadLetterUrl,
        page.map((entry) => entry.letter),
      );
      deleted += page.length - failed.length;
    }
  }

  async open(ref: SubscriptionRef, leaseMs: number): Promise<DeadLetterCursor> {
    const { url, deadLetterUrl } = await this.queues(ref);
    const visibility = Math.max(1, Math.ceil(leaseMs / 1000));
    const held = new Set<LetterHandle>();
    const seen = new Set<string>();
    let closed = false;
    const letterOf = (handle: unknown) => handle as LetterHandle;
    return {
      next: async (maxMessages) => {
        if (closed || deadLetterUrl === undefined) return [];
        const page = await this.take(deadLetterUrl, maxMessages, visibility);
        const out: HeldDeadLetter[] = [];
        const repeats: LetterHandle[] = [];
        for (const { message, letter } of page) {
          if (seen.has(letter.messageId)) {
            repeats.push(letter);
            continue;
          }
          seen.add(letter.messageId);
          held.add(letter);
          out.push({ ...toStored(message, letter), handle: letter });
        }
        // Seen before (its lease ran out): visible again for other readers, not handed out twice.
        await this.changeVisibility(deadLetterUrl, repeats, 0).catch(() => undefined);
        return out;
      },
      redrive: async (letters) => {
        if (deadLetterUrl === undefined || letters.length === 0) return undefined;
        const handles = letters.map((letter) => letterOf(letter.handle));
        const failed = await this.moveBack(url, deadLetterUrl, handles);
        handles.forEach((handle, index) => {
          if (!failed.some((entry) => entry.index === index)) held.delete(handle);
        });
        return failed.length === 0 ? undefined : { failed };
      },
      discard: async (letters) => {
        if (deadLetterUrl === undefined || letters.length === 0) return undefined;
        const handles = letters.map((letter) => letterOf(letter.handle));
        const failed = await this.delete(deadLetterUrl, handles);
        handles.forEach((handle, index) => {
          if (!failed.some((entry) => entry.index === index)) held.delete(handle);
        });
        return failed.length === 0 ? undefined : ({ failed } satisfies BatchResult);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        if (deadLetterUrl !== undefined)
          await this.changeVisibility(deadLetterUrl, [...held], 0).catch(() => undefined);
        held.clear();
      },
    };
  }

  private delete(url: string, letters: readonly LetterHandle[]): Promise<Failure[]> {
    return deleteInBatches(
      this.sqs,
      url,
      letters.map((letter) => letter.receiptHandle),
      this.options.driverName,
    );
  }

  private async changeVisibility(
    url: string,
    letters: readonly LetterHandle[],
    seconds: number,
  ): Promise<void> {
    for (let start = 0; start < letters.length; start += BATCH_ENTRIES) {
      const chunk = letters.slice(start, start + BATCH_ENTRIES);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((letter, index) => ({
            Id: String(index),
            ReceiptHandle: letter.receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
    }
  }
}
