// One consuming session on a subscription's queue: long-poll receive, batch settles, lease extension, release compensation.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { UnsupportedError, WIRE } from '@omnibus/core';
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
import { batchEntryError, type SendEntry, sendToQueue } from './publisher.js';
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
  /** How long a long poll may still answer after its receive was aborted, ms; what it returns is released. */
  readonly abortGraceMs: number;
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
  private readonly closeController = new AbortController();

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
    const count = Math.min(pollers, Math.ceil(wanted / BATCH_ENTRIES));
    const controller = new AbortController();
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      // A poll that is answering right now still gets a moment to deliver, then goes.
      const timer = setTimeout(() => controller.abort(), this.options.abortGraceMs);
      timer.unref?.();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    const closeListener = () => controller.abort();
    this.closeController.signal.addEventListener('abort', closeListener, { once: true });
    const sizes = Array.from({ length: count }, (_, index) =>
      Math.min(BATCH_ENTRIES, wanted - index * BATCH_ENTRIES),
    );
    // One long poll; the others short-poll, so a backlog fills `wanted` in one round trip and an
    // empty queue costs one waiting call.
    const work = Promise.all(
      sizes.map((size, index) =>
        this.poll(size, index === 0 ? waitTimeSeconds : 0, controller.signal),
      ),
    ).then((batches) => batches.flat());
    this.track(this.polls, work);
    const abortedEarly = new Promise<'aborted'>((resolve) => {
      if (request.signal.aborted) resolve('aborted');
      request.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const winner = await Promise.race([work, abortedEarly]);
    request.signal.removeEventListener('abort', onAbort);
    if (winner === 'aborted' || aborted || this.closed) {
      // Whatever the poll brings after the abort goes back uncounted.
      void work.then(
        (messages) => this.releaseLate(messages),
        () => undefined,
      );
      this.closeController.signal.removeEventListener('abort', closeListener);
      return [];
    }
    this.closeController.signal.removeEventListener('abort', closeListener);
    return this.deliverable(winner);
  }

  private async poll(size: number, waitSeconds: number, signal: AbortSignal): Promise<Message[]> {
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
      if (notBefore !== undefined && notBefore > now + 500 && !this.options.fifo) {
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

  /** Waits for the lease extensions in flight on these handles (their outcome doesn't matter here). */
  private async settled(handles: readonly SqsHandle[]): Promise<void> {
    const pending = handles.map((handle) => handle.extension).filter((work) => work !== undefined);
    if (pending.length > 0) await Promise.allSettled(pending);
  }

  async ack(handles: readonly unknown[]): Promise<BatchResult | undefined> {
    const list = handles as readonly SqsHandle[];
    await this.settled(list);
    const failed = await this.deleteHandles(list);
    this.forget(list, failed);
    return resultOf(failed);
  }

  async nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
    const handles = requests.map((request) => request.handle as SqsHandle);
    await this.settled(handles);
    // Never 0: a retry loop at visibility 0 spins (MassTransit#5915; go-cloud uses 1 s).
    const failed = await this.changeVisibility(
      handles,
      requests.map((request) => Math.max(1, Math.ceil(request.delayMs / 1000))),
    );
    this.forget(handles, failed);
    return resultOf(failed);
  }

  async release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined> {
    const handles = requests.map((request) => request.handle as SqsHandle);
    await this.settled(handles);
    const failed = await this.releaseHandles(handles);
    this.forget(handles, failed);
    return resultOf(failed);
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
    await this.settled(handles);
    const now = String(Date.now());
    // Sent before the delete: a crash between leaves a duplicate in the DLQ, never a loss.
    const failed = await this.copyTo(deadLetterUrl, handles, (_, index) => {
      const request = requests[index]!;
      return {
        [WIRE.deadLetterReason]: request.reason,
        [WIRE.deadLetterAttempts]: String(request.attempts),
        [WIRE.deadLetteredAt]: now,
        [WIRE.redrives]: String(request.message.redrives ?? 0),
        [WIRE.sourceTopic]: this.options.spec.topic,
        [WIRE.sourceSubscription]: this.options.spec.subscription,
        [WIRE.attempts]: '0',
      };
    });
    const copied = handles.filter((_, index) => !failed.some((entry) => entry.index === index));
    const deleteFailed = await this.deleteHandles(copied);
    const all = [
      ...failed,
      ...deleteFailed.map((entry) => ({
        index: handles.indexOf(copied[entry.index]!),
        error: entry.error,
      })),
    ];
    this.forget(handles, all);
    return resultOf(all);
  }

  /** Sends copies of held deliveries to `url`, with metadata changes; failed entries by index. */
  private async copyTo(
    url: string,
    handles: readonly SqsHandle[],
    changes: (handle: SqsHandle, index: number) => Record<string, string>,
    delaySeconds?: number,
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
        groupId: this.options.fifo ? (handle.groupId ?? decoded.id) : undefined,
        deduplicationId: this.options.fifo ? freshDeduplicationId(decoded.id) : undefined,
        delaySeconds,
      };
    });
    const maxBytes = await this.options.topology.maxMessageSize(url);
    const result = await sendToQueue(this.sqs, url, entries, maxBytes, this.options.driverName);
    return [...(result?.failed ?? [])];
  }

  /** DeleteMessageBatch (≤ 10 per call); entries SQS lists as failed come back by index. */
  private async deleteHandles(handles: readonly SqsHandle[]): Promise<Failure[]> {
    const failed: Failure[] = [];
    for (let start = 0; start < handles.length; start += BATCH_ENTRIES) {
      const chunk = handles.slice(start, start + BATCH_ENTRIES);
      const result = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.url,
          Entries: chunk.map((handle, index) => ({
            Id: String(index),
            ReceiptHandle: handle.receiptHandle,
          })),
        }),
      );
      for (const entry of result.Failed ?? [])
        failed.push({ index: start + Number(entry.Id), error: batchEntryError(entry) });
    }
    return failed;
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
      for (const entry of result.Failed ?? [])
        failed.push({ index: start + Number(entry.Id), error: batchEntryError(entry) });
    }
    return failed;
  }

  /** Settled handles leave the held set (failed ones stay: core decides what happens to them). */
  private forget(handles: readonly SqsHandle[], failed: readonly Failure[]): void {
    handles.forEach((handle, index) => {
      if (!failed.some((entry) => entry.index === index)) this.held.delete(handle);
    });
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

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.options.onClose(this);
    }
    // Polls that outlive their grace are cut; whatever they returned was released.
    const timer = setTimeout(() => this.closeController.abort(), this.options.abortGraceMs);
    while (this.polls.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...this.polls, ...this.background]);
    }
    clearTimeout(timer);
  }
}
