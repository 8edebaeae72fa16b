// What the SQS bench sides share: the emulator's region and credentials, and the raw SDK's consuming loop.
import type { Message, SQSClient } from '@aws-sdk/client-sqs';

type SqsModule = typeof import('@aws-sdk/client-sqs');

export const REGION = 'us-east-1';
/** fauxqs accepts any credentials; fixed ones keep the SDK off the default provider chain. */
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
/** ReceiveMessage and DeleteMessageBatch take at most 10 entries (SQS quota). */
const BATCH = 10;
/** SQS's longest long poll, seconds; the loop is aborted through its signal. */
export const WAIT_SECONDS = 20;
/** The system attributes the adapter asks for (issue 9); the raw side asks for the same. */
export const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SentTimestamp',
  'MessageGroupId',
] as const;

/**
 * One poller: ReceiveMessage 10 (20 s long poll, the same attributes Omnibus asks for) → `handle`
 * each message of the batch at once → DeleteMessageBatch, until `signal` aborts. A failed call or
 * delete entry rejects, so a run fails instead of waiting for deletes that won't come.
 */
export async function pollAndDelete(
  SQS: SqsModule,
  sqs: SQSClient,
  queueUrl: string,
  signal: AbortSignal,
  handle: (message: Message) => unknown,
): Promise<void> {
  while (!signal.aborted) {
    let received: Message[] | undefined;
    try {
      ({ Messages: received } = await sqs.send(
        new SQS.ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: BATCH,
          WaitTimeSeconds: WAIT_SECONDS,
          MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      ));
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (received === undefined || received.length === 0) continue;
    await Promise.all(received.map(handle));
    const { Failed } = await sqs.send(
      new SQS.DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: received.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
        })),
      }),
    );
    if (Failed !== undefined && Failed.length > 0) {
      throw new Error(`${Failed.length} deletes of a batch failed: ${Failed[0]?.Code}`);
    }
  }
}
