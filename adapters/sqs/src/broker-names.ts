// Queue and topic names derived from Omnibus names: SQS queue names are account-wide and 80 characters at most.
import { brokerName } from '@omnibus/core';
import type { SubscriptionRef } from '@omnibus/core/driver';

/** SQS queue names: 80 characters (letters, digits, `-`, `_`), less the `.fifo` a FIFO queue must end with. */
export const MAX_NAME_LENGTH = 80 - '.fifo'.length;

/** `_` joins the parts: SQS and SNS allow it, and Omnibus prefixes end with `-`. */
const SEPARATOR = '_';

const fifoSuffix = (fifo: boolean) => (fifo ? '.fifo' : '');

/** The SNS topic of an Omnibus topic (fan-out mode), or the queue standing for it (queue mode). */
export function topicName(topic: string, fifo: boolean): string {
  return brokerName([topic], MAX_NAME_LENGTH, SEPARATOR) + fifoSuffix(fifo);
}

/** The queue a subscription reads: its own (fan-out), or the topic's (queue mode). */
export function subscriptionQueueName(
  ref: SubscriptionRef,
  fanout: boolean,
  fifo: boolean,
): string {
  if (!fanout) return topicName(ref.topic, fifo);
  return brokerName([ref.topic, ref.subscription], MAX_NAME_LENGTH, SEPARATOR) + fifoSuffix(fifo);
}

/** The subscription's DLQ (a FIFO source needs a FIFO DLQ). */
export function deadLetterQueueName(ref: SubscriptionRef, fanout: boolean, fifo: boolean): string {
  const parts = fanout ? [ref.topic, ref.subscription, 'dlq'] : [ref.topic, 'dlq'];
  return brokerName(parts, MAX_NAME_LENGTH, SEPARATOR) + fifoSuffix(fifo);
}
