// One consuming session on a subscription's queue: long-poll receive, batch settles, lease extension, release compensation.
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { OmnibusError, UnsupportedError, WIRE } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterRequest,
  DriverSubscription,
  LeaseRequest,
  NackRequest,
  ReceivedMessage,
  ReceiveRequest,
  ReleaseRequest,
  SubscriptionSpec,
} from '@omnibus/core/driver';
import { BATCH_ENTRIES, MAX_DELAY_SECONDS, MAX_VISIBILITY_SECONDS } from './capabilities.js';
import { LEASE_LOST } from './classify-error.js';
import {
  attemptOf,
  copyMetadata,
  type DecodedMessage,
  decode,
  encode,
  metadataNumber,
  SQS_WIRE,
  toReceived,
} from './message-mapping.js';
import { batchFailures, deleteInBatches, type SendEntry, sendToQueue } from './publisher.js';
import type { SubscriptionQueues, Topology } from './topology.js';

/** What the adapter keeps per delivery, as `ReceivedMessage.handle`. */
export interface SqsHandle {
  readonly receiptHandle: string;
  readonly queueUrl: string;
  /** When SQS first handed the message out (the 12 h visibility cap counts from it), epoch ms. */
  readonly firstReceivedAt: number;
  readonly decoded: DecodedMessage;
  readonly attempt: number;
  /** The SQS message group (FIFO), kept on every copy. */
  readonly groupId: string | undefined;
  /** A lease extension in flight: settles wait for it (else SQS says the receipt handle is invalid). */
  extension?: Promise<unknown> | undefined;
  /**
   * Settled (acked, nacked, released, dead-lettered): the handle is stale from then on. SQS may
   * still accept an old receipt handle of a message received again (FIFO releases keep the
   * message), so a stale settle is refused here instead of reaching SQS.
   */
  done?: boolean;
}

export interface SubscriptionOptions {
  readonly sqs: SQSClient;
  readonly topology: Topology;
  readonly queues: SubscriptionQueues;
  readonly spec: SubscriptionSpec;
  readonly fifo: boolean;
  readonly driverName: string;
  /** Long-poll wait, seconds (SQS: 0–20). */
  readonly waitTimeSeconds: number;
  /** Most ReceiveMessage calls one receive makes at once. */
  readonly pollers: number;
  /** Aborted only when the driver gives up on polls still running (see `SqsOptions.closeGraceMs`). */
  readonly hardStop: AbortSignal;
  readonly onClose: (subscription: SqsSubscription) => void;
}

type Failure = { index: number; error: unknown };

const resultOf = (failed: Failure[]): BatchResult | undefined =>
  failed.length === 0 ? undefined : { failed };

/** A fresh FIFO deduplication id for a copy: the message id alone would be dropped as a duplicate for 5 minutes. */
const freshDeduplicationId = (id: string) =>
  `${id.slice(0, 64)}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

export class SqsSubscription implements DriverSubscription {
  /** Deliveries handed out and not settled: released (visibility 0) when the driver closes. */
  readonly held = new Set<SqsHandle>();
  /** Polls still running, aborted ones included (close waits for them). */
  private readonly polls = new Set<Promise<unknown>>();
  /** Copies and deletes running in the background (delay hops, late releases). */
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: SubscriptionOptions) {}

  private get sqs() {
    return this.options.sqs;
  }
  private get url() {
    return this.options.queues.url;
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    if (this.closed || request.signal.aborted) return [];
    const { pollers, waitTimeSeconds } = this.options;
    const wanted = Math.max(1, request.maxMessages);
    // A long poll first; while each call comes back full and more are wanted, another (short)
    // poll, one after the other: concurrent receives on one queue race in moto (a message marked
    // received by one call and returned by neither), and a backlog still fills `wanted` quickly.
    //
    // The polls are not cut when the receive is aborted: cutting the HTTP request does not end
    // SQS's (or moto's) poll, which would still take a message that arrives during its wait and
    // leave it invisible for a whole lease. The receive returns at once; the poll runs out (at
    // most waitTimeSeconds) and what it brings is released uncounted.
    const work = (async () => {
      const messages: Message[] = [];
      for (let call = 0; call < pollers && messages.length < wanted; call += 1) {
        const size = Math.min(BATCH_ENTRIES, wanted - messages.length);
        const batch = await this.poll(size, call === 0 ? waitTimeSeconds : 0);
        messages.push(...batch);
        if (batch.length < size || request.signal.aborted) break;
      }
      return messages;
    })();
    this.track(this.polls, work);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      request.signal.addEventListener('abort', onAbort, { once: true });
    });
    const winner = await Promise.race([work, aborted]);
    if (onAbort !== undefined) request.signal.removeEventListener('abort', onAbort);
    if (winner === 'aborted' || request.signal.aborted || this.closed) {
      void work.then(
        (messages) => this.releaseLate(messages),
        () => undefined,
      );
      return [];
    }
    return this.deliverable(winner);
  }

  private async poll(size: number, waitSeconds: number): Promise<Message[]> {
    const signal = this.options.hardStop;
    try {
      const result = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: size,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: Math.ceil(this.options.spec.ackDeadlineMs / 1000),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal, requestTimeout: (waitSeconds + 10) * 1000 },
      );
      return result.Messages ?? [];
    } catch (error) {
      if (signal.aborted) return [];
      throw error;
    }
  }

  private handleOf(message: Message): SqsHandle {
    const decoded = decode(message, this.options.queues.topicArn);
    const first = Number(message.Attributes?.ApproximateFirstReceiveTimestamp);
    return {
      receiptHandle: message.ReceiptHandle!,
      queueUrl: this.url,
      firstReceivedAt: Number.isFinite(first) && first > 0 ? first : Date.now(),
      decoded,
      attempt: attemptOf(message, decoded),
      groupId: message.Attributes?.MessageGroupId,
    };
  }

  /** Turns received messages into deliveries, moving fan-out delayed ones to a delayed copy first. */
  private deliverable(messages: Message[]): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    const now = Date.now();
    for (const message of messages) {
      const handle = this.handleOf(message);
      const notBefore = metadataNumber(handle.decoded.metadata, SQS_WIRE.notBefore);
      if (notBefore !== undefined && notBefore > now && !this.options.fifo) {
        this.track(this.background, this.postpone(handle, notBefore - now));
        continue;
      }
      this.held.add(handle);
      out.push(toReceived(handle.decoded, handle.attempt, handle, message, this.options.fifo));
    }
    return out;
  }

  /** Fan-out delayed publish: a copy with DelaySeconds in this queue, this delivery not counted. */
  private async postpone(handle: SqsHandle, remainingMs: number): Promise<void> {
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(remainingMs / 1000));
    const failed = await this.copyTo(
      this.url,
      [handle],
      (one) => ({
        [WIRE.attempts]: String(one.attempt - 1),
      }),
      delaySeconds,
    );
    if (failed.length === 0) await this.deleteHandles([handle]);
  }

  private releaseLate(messages: Message[]): Promise<unknown> {
    if (messages.length === 0) return Promise.resolve();
    const handles = messages.map((message) => this.handleOf(message));
    return this.track(
      this.background,
      this.releaseHandles(handles).catch(() => undefined),
    );
  }

  private track<T>(set: Set<Promise<unknown>>, work: Promise<T>): Promise<T> {
    const quiet = work.catch(() => undefined);
    set.add(quiet);
    void quiet.finally(() => set.delete(quiet));
    return work;
  }

  /**
   * Runs a settle on the handles not settled before; the stale ones are reported as failed with a
   * lost lease (not retryable), the others' failures mapped back to their own indexes.
   */
  private async fresh(
    handles: readonly SqsHandle[],
    settle: (live: SqsHandle[], positions: number[]) => Promise<Failure[]>,
  ): Promise<BatchResult | undefined> {
    const failed: Failure[] = [];
    const live: SqsHandle[] = [];
    const positions: number[] = [];
    handles.forEach((handle, index) => {
      if (handle.done === true)
        failed.push({
          index,
          error: new OmnibusError('NotFound', LEASE_LOST, { driver: this.options.driverName }),
        });
      else {
        live.push(handle);
        positions.push(index);
      }
    });
    if (live.length > 0) {
      await this.settled(live);
      const liveFailed = await settle(live, positions);
      live.forEach((handle, index) => {
        if (!liveFailed.some((entry) => entry.index === index)) {
          handle.done = true;
          this.held.delete(handle);
        }
      });
      for (const entry of liveFailed)
        failed.push({ index: positions[entry.index]!, error: entry.error });
    }
    return resultOf(failed);
  }

  /** Waits for the lease extensions in flight on these handles (their outcome doesn't matter here). */
  private async settled(handles: readonly SqsHandle[]): Promise<void> {
    const pending = handles.map((handle) => handle.extension).filter((work) => work !== undefined);
    if (pending.length > 0) await Promise.allSettled(pending);
  }

  async ack(handles: readonly unknown[]): Promise<BatchResult | undefined> {
    return this.fresh(handles as readonly SqsHandle[], (live) => this.deleteHandles(live));
  }

  async nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
    const handles = requests.map((request) => request.handle as SqsHandle);
    // Never 0: a retry loop at visibility 0 spins (MassTransit#5915; go-cloud uses 1 s).
    return this.fresh(handles, (live, positions) =>
      this.changeVisibility(
        live,
        positions.map((position) => Math.max(1, Math.ceil(requests[position]!.delayMs / 1000))),
      ),
    );
  }

  async release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined> {
    const handles = requests.map((request) => request.handle as SqsHandle);
    return this.fresh(handles, (live) => this.releaseHandles(live));
  }

  /**
   * Standard queues: a copy in the same queue carrying `attempt − 1` ended deliveries, then the
   * original deleted, so the next receive (count 1) reads the same attempt. FIFO: a copy would go
   * behind later messages of its group, so visibility 0, and the receive count rises (approximate).
   */
  private async releaseHandles(handles: readonly SqsHandle[]): Promise<Failure[]> {
    if (handles.length === 0) return [];
    if (this.options.fifo)
      return this.changeVisibility(
        handles,
        handles.map(() => 0),
      );
    const failed = await this.copyTo(this.url, handles, (handle) => ({
      [WIRE.attempts]: String(Math.max(0, handle.attempt - 1)),
    }));
    const copied = handles.filter((_, index) => !failed.some((entry) => entry.index === index));
    const deleteFailed = await this.deleteHandles(copied);
    // A copy landed but the original stays: it comes back after its lease, a duplicate, never a loss.
    return [
      ...failed,
      ...deleteFailed.map((entry) => ({
        index: handles.indexOf(copied[entry.index]!),
        error: entry.error,
      })),
    ];
  }

  async extendLease(requests: readonly LeaseRequest[]): Promise<BatchResult | undefined> {
    const handles = requests.map((request) => request.handle as SqsHandle);
    await this.settled(handles);
    const work = this.changeVisibility(
      handles,
      requests.map((request) => Math.ceil(request.leaseMs / 1000)),
    );
    for (const handle of handles) handle.extension = work;
    try {
      return resultOf(await work);
    } finally {
      for (const handle of handles) if (handle.extension === work) handle.extension = undefined;
    }
  }

  async deadLetter(requests: readonly DeadLetterRequest[]): Promise<BatchResult | undefined> {
    const deadLetterUrl = this.options.queues.deadLetterUrl;
    if (deadLetterUrl === undefined)
      throw new UnsupportedError(
        `subscription "${this.options.spec.subscription}" has no DLQ (deadLetter: false)`,
        { driver: this.options.driverName },
      );
    const handles = requests.map((request) => request.handle as SqsHandle);
    return this.fresh(handles, async (live, positions) => {
      const now = String(Date.now());
      // Sent before the delete: a crash between leaves a duplicate in the DLQ, never a loss.
      const failed = await this.copyTo(
        deadLetterUrl,
        live,
        (_, index) => {
          const request = requests[positions[index]!]!;
          return {
            [WIRE.deadLetterReason]: request.reason,
            [WIRE.deadLetterAttempts]: String(request.attempts),
            [WIRE.deadLetteredAt]: now,
            [WIRE.redrives]: String(request.message.redrives ?? 0),
            [WIRE.sourceTopic]: this.options.spec.topic,
            [WIRE.sourceSubscription]: this.options.spec.subscription,
            [WIRE.attempts]: '0',
            // FIFO: each letter in a group of its own (a DLQ read holding one letter must not block
            // the rest of its group), the key kept in the metadata for the redrive.
            ...(this.options.fifo && request.message.orderingKey !== undefined
              ? { [WIRE.orderingKey]: request.message.orderingKey }
              : {}),
          };
        },
        undefined,
        true,
      );
      const copied = live.filter((_, index) => !failed.some((entry) => entry.index === index));
      const deleteFailed = await this.deleteHandles(copied);
      return [
        ...failed,
        ...deleteFailed.map((entry) => ({
          index: live.indexOf(copied[entry.index]!),
          error: entry.error,
        })),
      ];
    });
  }

  /** Sends copies of held deliveries to `url`, with metadata changes; failed entries by index. */
  private async copyTo(
    url: string,
    handles: readonly SqsHandle[],
    changes: (handle: SqsHandle, index: number) => Record<string, string>,
    delaySeconds?: number,
    ownGroup = false,
  ): Promise<Failure[]> {
    const entries: SendEntry[] = handles.map((handle, index) => {
      const { decoded } = handle;
      return {
        encoded: encode(
          decoded.body,
          decoded.attributes,
          copyMetadata(decoded, changes(handle, index)),
          decoded.traceparent,
        ),
        groupId: this.options.fifo
          ? ownGroup
            ? decoded.id
            : (handle.groupId ?? decoded.id)
          : undefined,
        deduplicationId: this.options.fifo ? freshDeduplicationId(decoded.id) : undefined,
        delaySeconds,
      };
    });
    const maxBytes = await this.options.topology.maxMessageSize(url);
    const result = await sendToQueue(this.sqs, url, entries, maxBytes, this.options.driverName);
    return [...(result?.failed ?? [])];
  }

  /** DeleteMessageBatch (≤ 10 per call); entries SQS lists as failed come back by index. */
  private deleteHandles(handles: readonly SqsHandle[]): Promise<Failure[]> {
    return deleteInBatches(
      this.sqs,
      this.url,
      handles.map((handle) => handle.receiptHandle),
      this.options.driverName,
    );
  }

  /** ChangeMessageVisibilityBatch, each timeout capped at SQS's 12 h from the first receive. */
  private async changeVisibility(
    handles: readonly SqsHandle[],
    seconds: readonly number[],
  ): Promise<Failure[]> {
    const failed: Failure[] = [];
    const now = Date.now();
    for (let start = 0; start < handles.length; start += BATCH_ENTRIES) {
      const chunk = handles.slice(start, start + BATCH_ENTRIES);
      const result = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.url,
          Entries: chunk.map((handle, index) => {
            const left = MAX_VISIBILITY_SECONDS - Math.ceil((now - handle.firstReceivedAt) / 1000);
            return {
              Id: String(index),
              ReceiptHandle: handle.receiptHandle,
              VisibilityTimeout: Math.max(0, Math.min(seconds[start + index]!, left)),
            };
          }),
        }),
      );
      const ids = chunk.map((_, index) => String(index));
      for (const { id, error } of batchFailures(
        result,
        ids,
        'ChangeMessageVisibilityBatch',
        this.options.driverName,
      ))
        failed.push({ index: start + Number(id), error });
    }
    return failed;
  }

  /** Makes held deliveries visible again at once (the driver is closing: as a broker does for a lost connection). */
  async releaseHeld(): Promise<void> {
    const handles = [...this.held];
    this.held.clear();
    for (let start = 0; start < handles.length; start += BATCH_ENTRIES) {
      const chunk = handles.slice(start, start + BATCH_ENTRIES);
      await this.changeVisibility(
        chunk,
        chunk.map(() => 0),
      ).catch(() => undefined);
    }
  }

  /** Resolves once every poll of this subscription ran out and what it brought was released. */
  async drained(): Promise<void> {
    while (this.polls.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...this.polls, ...this.background]);
    }
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.options.onClose(this);
    }
    // Copies and deletes already started finish; a poll still waiting runs out in the background.
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }
}
