// Publishing: SNS PublishBatch (fan-out) or SQS SendMessageBatch (queue mode), per entry, within the size limits.
import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MessageTooLargeError, OmnibusError } from '@omnibus/core';
import type { BatchResult, OutgoingMessage } from '@omnibus/core/driver';
import { BATCH_ENTRIES, MAX_MESSAGE_BYTES } from './capabilities.js';
import { answered } from './classify-error.js';
import {
  type EncodedMessage,
  encode,
  type Metadata,
  metadataOf,
  SQS_WIRE,
} from './message-mapping.js';
import type { Topology } from './topology.js';

/** One entry to send: what SendMessageBatch/PublishBatch need beyond the encoded message. */
export interface SendEntry {
  readonly encoded: EncodedMessage;
  /** FIFO: the group (the ordering key, else the message id: no order among unkeyed messages). */
  readonly groupId?: string | undefined;
  /** FIFO: the deduplication id (the message id on publish; a fresh one on the adapter's copies). */
  readonly deduplicationId?: string | undefined;
  readonly delaySeconds?: number | undefined;
}

type Failure = { index: number; error: unknown };

/** Groups entries into requests of at most 10 entries and `maxBytes` in total (SQS and SNS cap both). */
function chunks(entries: readonly SendEntry[], maxBytes: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    if (current.length === 10 || (current.length > 0 && bytes + entry.encoded.bytes > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += entry.encoded.bytes;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

function tooLarge(entry: SendEntry, limit: number, driver: string): MessageTooLargeError {
  const base64 = entry.encoded.attributes.omnibus?.StringValue?.includes(
    `"${SQS_WIRE.encoding}":"base64"`,
  );
  return new MessageTooLargeError(
    `the message takes ${entry.encoded.bytes} bytes on the wire, over the ${limit} the ${
      limit === MAX_MESSAGE_BYTES ? 'SNS topic' : 'SQS queue'
    } takes${base64 ? ' (its body is not valid XML text, so it travels base64, a third larger)' : ''}`,
    { driver },
  );
}

/** Sends entries to a queue with SendMessageBatch; entries SQS lists as failed are reported, not thrown. */
export async function sendToQueue(
  sqs: SQSClient,
  url: string,
  entries: readonly SendEntry[],
  maxBytes: number,
  driver: string,
): Promise<BatchResult | undefined> {
  const failed: Failure[] = [];
  const fits: number[] = [];
  entries.forEach((entry, index) => {
    if (entry.encoded.bytes > maxBytes)
      failed.push({ index, error: tooLarge(entry, maxBytes, driver) });
    else fits.push(index);
  });
  const kept = fits.map((index) => entries[index]!);
  await Promise.all(
    chunks(kept, maxBytes).map(async (group) => {
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: group.map((position) => {
            const entry = kept[position]!;
            return {
              Id: String(position),
              MessageBody: entry.encoded.body,
              MessageAttributes: entry.encoded.attributes,
              DelaySeconds: entry.delaySeconds,
              MessageGroupId: entry.groupId,
              MessageDeduplicationId: entry.deduplicationId,
            };
          }),
        }),
      );
      if (result.Successful === undefined && result.Failed === undefined)
        answered(undefined, driver);
      const ids = group.map(String);
      for (const { id, error } of batchFailures(result, ids, 'SendMessageBatch', driver))
        failed.push({ index: fits[Number(id)]!, error });
    }),
  );
  return failed.length === 0 ? undefined : { failed };
}

/** A `Failed` batch entry as an error the table classifies (its Code is the AWS error name). */
export function batchEntryError(entry: {
  Code?: string | undefined;
  Message?: string | undefined;
  SenderFault?: boolean | undefined;
}): Error {
  const error = new Error(entry.Message ?? entry.Code ?? 'batch entry failed');
  error.name = entry.Code ?? 'BatchEntryFailed';
  Object.assign(error, { Code: entry.Code, senderFault: entry.SenderFault });
  // A server-side failure the table doesn't know is worth another try.
  if (entry.SenderFault === false) Object.assign(error, { $metadata: { httpStatusCode: 500 } });
  return error;
}

/** What SQS's and SNS's batch calls answer: each entry by the `Id` it was sent with. */
interface BatchReply {
  readonly Successful?: readonly { readonly Id?: string | undefined }[] | undefined;
  readonly Failed?:
    | readonly {
        readonly Id?: string | undefined;
        readonly Code?: string | undefined;
        readonly Message?: string | undefined;
        readonly SenderFault?: boolean | undefined;
      }[]
    | undefined;
}

/**
 * The entries of one batch call that did not succeed, by the `Id`s sent: those the reply lists as
 * failed, and those it lists nowhere. AWS names every entry in `Successful` or `Failed`, but moto
 * 5.2's PublishBatch leaves out an entry whose publish raised anything but InvalidParameterValue
 * (moto/sns/models.py:1217) and still answers 200: a Subscribe or Unsubscribe by any client at that
 * moment makes the publish raise "OrderedDict mutated during iteration" (moto/sns/models.py:596).
 * Taken for sent, such an entry was a lost message (issue 9), so an unlisted entry fails
 * retryable. Sending it again is safe: a FIFO retry carries the same deduplication id.
 */
export function batchFailures(
  reply: BatchReply,
  ids: readonly string[],
  call: string,
  driver: string,
): { readonly id: string; readonly error: Error }[] {
  const failed = reply.Failed ?? [];
  const failures = failed.map((entry) => ({ id: entry.Id ?? '', error: batchEntryError(entry) }));
  if ((reply.Successful?.length ?? 0) + failed.length === ids.length) return failures;
  const listed = new Set<string | undefined>();
  for (const entry of reply.Successful ?? []) listed.add(entry.Id);
  for (const entry of failed) listed.add(entry.Id);
  for (const id of ids)
    if (!listed.has(id))
      failures.push({
        id,
        error: new OmnibusError(
          'Unavailable',
          `the ${call} reply listed this entry neither as successful nor as failed, so it may not have taken effect`,
          { driver, retryable: true },
        ),
      });
  return failures;
}

/**
 * DeleteMessageBatch over `receiptHandles`, at most 10 a call; the entries SQS (or the reply's
 * silence, see {@link batchFailures}) reports as not deleted come back by their index.
 */
export async function deleteInBatches(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
  driver: string,
): Promise<{ index: number; error: unknown }[]> {
  const failed: { index: number; error: unknown }[] = [];
  for (let start = 0; start < receiptHandles.length; start += BATCH_ENTRIES) {
    const chunk = receiptHandles.slice(start, start + BATCH_ENTRIES);
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((receiptHandle, index) => ({
          Id: String(index),
          ReceiptHandle: receiptHandle,
        })),
      }),
    );
    const ids = chunk.map((_, index) => String(index));
    for (const { id, error } of batchFailures(result, ids, 'DeleteMessageBatch', driver))
      failed.push({ index: start + Number(id), error });
  }
  return failed;
}

export interface PublisherOptions {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly topology: Topology;
  readonly fanout: boolean;
  readonly fifo: boolean;
  readonly driverName: string;
}

/** The driver's `publish`: fresh messages from core, to a topic. */
export class Publisher {
  constructor(private readonly options: PublisherOptions) {}

  async publish(
    topic: string,
    messages: readonly OutgoingMessage[],
  ): Promise<BatchResult | undefined> {
    const { fanout, fifo, topology } = this.options;
    const target = await topology.publishTarget(topic);
    const entries = messages.map((message) => this.entry(message));
    if (!fanout) {
      const maxBytes = await topology.maxMessageSize(target);
      return sendToQueue(this.options.sqs, target, entries, maxBytes, this.options.driverName);
    }
    return this.publishToTopic(target, entries, fifo);
  }

  private entry(message: OutgoingMessage): SendEntry {
    const { fanout, fifo } = this.options;
    const metadata: Metadata = metadataOf(message, fifo);
    const delayMs = message.delayMs ?? 0;
    // SNS can't delay: the first receive moves the message to a delayed copy (see sqs-subscription).
    if (fanout && delayMs > 0) metadata[SQS_WIRE.notBefore] = String(message.publishedAt + delayMs);
    return {
      encoded: encode(message.body, message.attributes, metadata, message.traceparent),
      groupId: fifo ? (message.orderingKey ?? message.id) : undefined,
      deduplicationId: fifo ? message.id : undefined,
      delaySeconds: !fanout && delayMs > 0 ? Math.min(900, Math.ceil(delayMs / 1000)) : undefined,
    };
  }

  private async publishToTopic(
    topicArn: string,
    entries: readonly SendEntry[],
    fifo: boolean,
  ): Promise<BatchResult | undefined> {
    const failed: Failure[] = [];
    const fits: number[] = [];
    entries.forEach((entry, index) => {
      if (entry.encoded.bytes > MAX_MESSAGE_BYTES)
        failed.push({ index, error: tooLarge(entry, MAX_MESSAGE_BYTES, this.options.driverName) });
      else fits.push(index);
    });
    const kept = fits.map((index) => entries[index]!);
    // FIFO: one request at a time keeps the send order within each group.
    const groups = chunks(kept, MAX_MESSAGE_BYTES);
    const sendGroup = async (group: number[]) => {
      const result = await this.options.sns.send(
        new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: group.map((position) => {
            const entry = kept[position]!;
            return {
              Id: String(position),
              Message: entry.encoded.body,
              MessageAttributes: entry.encoded.attributes,
              MessageGroupId: entry.groupId,
              MessageDeduplicationId: entry.deduplicationId,
            };
          }),
        }),
      );
      const driver = this.options.driverName;
      if (result.Successful === undefined && result.Failed === undefined)
        answered(undefined, driver);
      for (const { id, error } of batchFailures(result, group.map(String), 'PublishBatch', driver))
        failed.push({ index: fits[Number(id)]!, error });
    };
    if (fifo) for (const group of groups) await sendGroup(group);
    else await Promise.all(groups.map(sendGroup));
    return failed.length === 0 ? undefined : { failed };
  }
}
