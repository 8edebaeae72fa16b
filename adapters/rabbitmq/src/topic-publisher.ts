// Publishes a batch to a topic: straight to its exchange, or through a delay bucket, with per-message outcomes.
import { OmnibusError } from '@omnibus/core';
import type { BatchResult, OutgoingMessage } from '@omnibus/core/driver';
import { classifyError } from './classify-error.js';
import type { ConfirmPublisher, Publication } from './confirm-publisher.js';
import type { DelayQueues } from './delay-queues.js';
import { publishOptions, toBuffer } from './message-mapping.js';
import type { Topology } from './topology.js';

/**
 * `DriverV2.publish`: declares the topic's exchange once per connection (publishing to a missing
 * exchange would close the shared confirm channel with a 404), routes delayed messages through a
 * topic delay bucket, and hands the batch to the confirm publisher, whose per-message outcomes are
 * the {@link BatchResult}.
 */
export class TopicPublisher {
  constructor(
    private readonly topology: Topology,
    private readonly delayQueues: DelayQueues,
    private readonly publisher: ConfirmPublisher,
  ) {}

  async publish(
    topic: string,
    messages: readonly OutgoingMessage[],
  ): Promise<BatchResult | undefined> {
    if (messages.length === 0) return undefined;
    if (!this.topology.knowsTopic(topic)) await this.topology.ensureTopic(topic);
    const publications: Publication[] = [];
    for (const message of messages) publications.push(await this.#publication(topic, message));
    try {
      const result = await this.publisher.publishBatch(publications);
      // A bucket that refused a message may have expired: declare it again next time.
      for (const entry of result?.failed ?? []) this.#forgetBucket(publications[entry.index]);
      return result;
    } catch (error) {
      for (const publication of publications) this.#forgetBucket(publication);
      if (
        classifyError(error)?.code === 'NotFound' ||
        (OmnibusError.isInstance(error) && error.code === 'NotFound')
      ) {
        this.topology.forget(topic);
      }
      throw error;
    }
  }

  /** One message: to the topic's exchange, or to a delay bucket that dead-letters to it. */
  async #publication(topic: string, message: OutgoingMessage): Promise<Publication> {
    const options = publishOptions(message);
    const content = toBuffer(message.body);
    const delayMs = message.delayMs ?? 0;
    // Not mandatory: a topic without subscriptions drops the message, as pub/sub does.
    if (delayMs <= 0) return { exchange: topic, routingKey: '', content, options };
    const remainingMs = Math.max(1, Math.ceil(message.publishedAt + delayMs - Date.now()));
    const queue = await this.delayQueues.forTopic(topic, remainingMs);
    options.expiration = String(remainingMs);
    options.mandatory = true;
    return { exchange: '', routingKey: queue, content, options };
  }

  #forgetBucket(publication: Publication | undefined): void {
    if (publication !== undefined && publication.exchange === '')
      this.delayQueues.forget(publication.routingKey);
  }
}
