// Queues, topics and SNS subscriptions: idempotent creation, settings checks, lookups by name, deletion.
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  type ListSubscriptionsByTopicCommandOutput,
  ListTopicsCommand,
  SetSubscriptionAttributesCommand,
  type SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  SetQueueAttributesCommand,
  type SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import {
  InvalidArgumentError,
  OmnibusError,
  subscriptionNotFound,
  UnsupportedError,
} from '@omnibus/core';
import type { SubscriptionRef, SubscriptionSpec } from '@omnibus/core/driver';
import { deadLetterQueueName, subscriptionQueueName, topicName } from './broker-names.js';
import { RECEIVE_COUNT_MARGIN } from './capabilities.js';
import { answered, classifyError } from './classify-error.js';

/** Queue tag holding the settings fixed when a subscription is created (`maxAttempts=…;deadLetter=…;ordering=…`). */
const SETTINGS_TAG = 'omnibus-settings';
/** Queue mode: the one subscription of the topic's queue. */
const SUBSCRIPTION_TAG = 'omnibus-subscription';

/** The SQS queues of one subscription. */
export interface SubscriptionQueues {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string | undefined;
  /** Fan-out: the SNS topic feeding the queue, whose envelope alone is unwrapped. */
  readonly topicArn: string | undefined;
}

export interface TopologyOptions {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly fanout: boolean;
  readonly fifo: boolean;
  readonly region: string;
  readonly driverName: string;
}

const isNotFound = (error: unknown) => classifyError(error)?.code === 'NotFound';

/**
 * One driver's view of its topology, with lookups cached: queue URLs and ARNs, topic ARNs, and the
 * subscriptions it already ensured (ensuring again costs nothing).
 */
export class Topology {
  private readonly queueUrls = new Map<string, Promise<string>>();
  private readonly queueArns = new Map<string, Promise<string>>();
  private readonly topicArns = new Map<string, Promise<string>>();
  private readonly ensured = new Map<string, Promise<SubscriptionQueues>>();
  private readonly maxMessageSizes = new Map<string, Promise<number>>();
  private accountId: string | undefined;

  constructor(private readonly options: TopologyOptions) {}

  private get sqs() {
    return this.options.sqs;
  }
  private get sns() {
    return this.options.sns;
  }

  /** Drops every cached lookup (after a delete, or when a queue turned out missing). */
  forget(): void {
    this.queueUrls.clear();
    this.queueArns.clear();
    this.topicArns.clear();
    this.ensured.clear();
  }

  /** Caches a lookup; a failed one is not kept. */
  private cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let value = map.get(key);
    if (value === undefined) {
      value = load();
      map.set(key, value);
      value.catch(() => map.delete(key));
    }
    return value;
  }

  private queueAttributes(): Record<string, string> {
    return this.options.fifo ? { FifoQueue: 'true' } : {};
  }

  /** Creates the queue if missing (CreateQueue is idempotent with the same attributes); its URL. */
  createQueue(name: string): Promise<string> {
    return this.cached(this.queueUrls, name, async () => {
      const result = await this.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: this.queueAttributes() }),
      );
      return answered(result.QueueUrl, this.options.driverName);
    });
  }

  /** The URL of an existing queue; rejects NotFound when it doesn't exist. */
  queueUrl(name: string): Promise<string> {
    return this.cached(this.queueUrls, name, async () => {
      const result = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      return answered(result.QueueUrl, this.options.driverName);
    });
  }

  /** The URL of an existing queue, `undefined` when it doesn't exist. */
  async existingQueueUrl(name: string): Promise<string | undefined> {
    try {
      return await this.queueUrl(name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  queueArn(url: string): Promise<string> {
    return this.cached(this.queueArns, url, async () => {
      const result = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = answered(result.Attributes?.QueueArn, this.options.driverName);
      this.accountId ??= arn.split(':')[4];
      return arn;
    });
  }

  /** The queue's `MaximumMessageSize` in bytes (SQS default 1 MiB since 2025; read, not assumed). */
  maxMessageSize(url: string): Promise<number> {
    return this.cached(this.maxMessageSizes, url, async () => {
      const result = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MaximumMessageSize'] }),
      );
      const size = Number(result.Attributes?.MaximumMessageSize);
      return Number.isFinite(size) && size > 0 ? size : 256 * 1024;
    });
  }

  /** Fan-out: creates the SNS topic if missing (CreateTopic is idempotent); its ARN. */
  topicArn(topic: string): Promise<string> {
    return this.cached(this.topicArns, topic, async () => {
      const fifo = this.options.fifo;
      const result = await this.sns.send(
        new CreateTopicCommand({
          Name: topicName(topic, fifo),
          Attributes: fifo ? { FifoTopic: 'true', ContentBasedDeduplication: 'false' } : {},
        }),
      );
      const arn = answered(result.TopicArn, this.options.driverName);
      this.accountId ??= arn.split(':')[4];
      return arn;
    });
  }

  /** Creates the topic: the SNS topic (fan-out) or the queue standing for it (queue mode). */
  async ensureTopic(topic: string): Promise<void> {
    if (this.options.fanout) await this.topicArn(topic);
    else await this.createQueue(topicName(topic, this.options.fifo));
  }

  /** Where a publish to `topic` goes: an SNS topic ARN (fan-out) or a queue URL (queue mode). */
  async publishTarget(topic: string): Promise<string> {
    return this.options.fanout
      ? this.topicArn(topic)
      : this.createQueue(topicName(topic, this.options.fifo));
  }

  queueName(ref: SubscriptionRef): string {
    return subscriptionQueueName(ref, this.options.fanout, this.options.fifo);
  }

  deadLetterQueueName(ref: SubscriptionRef): string {
    return deadLetterQueueName(ref, this.options.fanout, this.options.fifo);
  }

  /**
   * Creates (or checks) the subscription: its queue, its settings tag, its DLQ and redrive policy,
   * and in fan-out mode the queue policy letting the topic send plus the raw-delivery SNS
   * subscription. Attributes that drifted are set again.
   */
  ensureSubscription(spec: SubscriptionSpec): Promise<SubscriptionQueues> {
    const settings = `maxAttempts=${spec.maxAttempts};deadLetter=${spec.deadLetter};ordering=${spec.ordering}`;
    const key = `${spec.topic}\u0000${spec.subscription}\u0000${settings}`;
    return this.cached(this.ensured, key, () => this.create(spec, settings));
  }

  private async create(spec: SubscriptionSpec, settings: string): Promise<SubscriptionQueues> {
    const { fanout } = this.options;
    const topicArn = fanout ? await this.topicArn(spec.topic) : undefined;
    const url = await this.createQueue(this.queueName(spec));
    const tags = (await this.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
    const owner = tags[SUBSCRIPTION_TAG];
    if (!fanout && owner !== undefined && owner !== spec.subscription) {
      throw new UnsupportedError(
        `queue mode has one subscription per topic: topic "${spec.topic}" already has subscription "${owner}", so "${spec.subscription}" cannot be created (capability fanout is false; use fan-out mode for several)`,
        { driver: this.options.driverName },
      );
    }
    const stored = tags[SETTINGS_TAG];
    if (stored !== undefined && stored !== settings)
      throw mismatch(spec, stored, settings, this.options.driverName);
    if (stored === undefined || (!fanout && owner === undefined)) {
      await this.sqs.send(
        new TagQueueCommand({
          QueueUrl: url,
          Tags: {
            [SETTINGS_TAG]: settings,
            ...(fanout ? {} : { [SUBSCRIPTION_TAG]: spec.subscription }),
          },
        }),
      );
    }
    const arn = await this.queueArn(url);
    const attributes: Record<string, string> = {};
    let deadLetterUrl: string | undefined;
    if (spec.deadLetter) {
      deadLetterUrl = await this.createQueue(this.deadLetterQueueName(spec));
      const maxReceiveCount = spec.maxAttempts + RECEIVE_COUNT_MARGIN;
      // The backstop only where SQS takes the count (1–1,000): core dead-letters first either way.
      if (Number.isFinite(maxReceiveCount) && maxReceiveCount <= 1_000) {
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: await this.queueArn(deadLetterUrl),
          maxReceiveCount,
        });
      }
    }
    if (topicArn !== undefined) attributes.Policy = JSON.stringify(queuePolicy(arn, topicArn));
    if (Object.keys(attributes).length > 0) {
      await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    }
    if (topicArn !== undefined) await this.subscribeQueue(topicArn, arn);
    return { url, arn, deadLetterUrl, topicArn };
  }

  /** Subscribes the queue with raw delivery; an existing subscription with other attributes is reconciled. */
  private async subscribeQueue(topicArn: string, queueArn: string): Promise<void> {
    try {
      await this.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      );
    } catch (error) {
      const existing = await this.subscriptionArn(topicArn, queueArn);
      if (existing === undefined) throw error;
      await this.sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: existing,
          AttributeName: 'RawMessageDelivery',
          AttributeValue: 'true',
        }),
      );
    }
  }

  /** The SNS subscription delivering `topicArn` to the queue, `undefined` if none (or no topic). */
  private async subscriptionArn(topicArn: string, queueArn: string): Promise<string | undefined> {
    let next: string | undefined;
    do {
      let page: ListSubscriptionsByTopicCommandOutput;
      try {
        page = await this.sns.send(
          new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: next }),
        );
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const found = page.Subscriptions?.find((entry) => entry.Endpoint === queueArn);
      if (found?.SubscriptionArn !== undefined) return found.SubscriptionArn;
      next = page.NextToken;
    } while (next !== undefined);
    return undefined;
  }

  /**
   * The queues of a subscription that must already exist (subscribe, stats, DLQ calls): NotFound,
   * in core's words, when its queue is missing or (queue mode) belongs to another subscription.
   */
  async existing(ref: SubscriptionRef): Promise<SubscriptionQueues> {
    const url = await this.existingQueueUrl(this.queueName(ref));
    if (url === undefined) throw subscriptionNotFound(ref, this.options.driverName);
    if (!this.options.fanout) {
      const tags = (await this.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
      if (tags[SUBSCRIPTION_TAG] !== ref.subscription)
        throw subscriptionNotFound(ref, this.options.driverName);
    }
    const deadLetterUrl = await this.existingQueueUrl(this.deadLetterQueueName(ref));
    const topicArn = this.options.fanout ? this.knownTopicArn(ref.topic) : undefined;
    return { url, arn: await this.queueArn(url), deadLetterUrl, topicArn };
  }

  /**
   * Deletes the subscription. Fan-out: the SNS subscription, the queue and the DLQ. Queue mode:
   * the queue is also the topic, so it stays, emptied (PurgeQueue) and untagged; the DLQ goes.
   */
  async deleteSubscription(ref: SubscriptionRef): Promise<boolean> {
    const url = await this.existingQueueUrl(this.queueName(ref));
    const deadLetterUrl = await this.existingQueueUrl(this.deadLetterQueueName(ref));
    if (!this.options.fanout) {
      const owned =
        url !== undefined && (await this.tags(url))[SUBSCRIPTION_TAG] === ref.subscription;
      if (!owned) return false;
      await this.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      await this.sqs.send(
        new UntagQueueCommand({ QueueUrl: url, TagKeys: [SETTINGS_TAG, SUBSCRIPTION_TAG] }),
      );
      await this.sqs
        .send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: '' } }))
        .catch(() => undefined);
      if (deadLetterUrl !== undefined) await this.deleteQueue(deadLetterUrl);
      this.forget();
      return true;
    }
    if (url !== undefined) {
      const queueArn = await this.queueArn(url);
      const topicArn = this.knownTopicArn(ref.topic) ?? (await this.discoverTopicArn(ref.topic));
      const subscription =
        topicArn === undefined ? undefined : await this.subscriptionArn(topicArn, queueArn);
      if (subscription !== undefined)
        await this.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription }));
    }
    for (const queue of [url, deadLetterUrl]) {
      if (queue !== undefined) await this.deleteQueue(queue);
    }
    this.forget();
    return url !== undefined || deadLetterUrl !== undefined;
  }

  private async tags(url: string): Promise<Record<string, string>> {
    return (await this.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
  }

  /**
   * Deletes the topic: the SNS topic (fan-out; its subscriptions' queues stay), or the queue
   * standing for it (queue mode), refused with `InvalidArgument` while its subscription exists,
   * since that queue holds the subscription's messages.
   */
  async deleteTopic(topic: string): Promise<boolean> {
    if (!this.options.fanout) {
      const url = await this.existingQueueUrl(topicName(topic, this.options.fifo));
      if (url === undefined) return false;
      const owner = (await this.tags(url))[SUBSCRIPTION_TAG];
      if (owner !== undefined)
        throw new InvalidArgumentError(
          `topic "${topic}" still has subscription "${owner}": in queue mode the topic's queue holds the subscription's messages, so delete the subscription first`,
        );
      await this.deleteQueue(url);
      this.forget();
      return true;
    }
    const arn = this.knownTopicArn(topic) ?? (await this.discoverTopicArn(topic));
    if (arn === undefined) return false;
    try {
      await this.sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    await this.sns.send(new DeleteTopicCommand({ TopicArn: arn }));
    this.forget();
    return true;
  }

  /** The ARN the topic has (or would have), from the account id this driver has seen; no call. */
  private knownTopicArn(topic: string): string | undefined {
    if (this.accountId === undefined) return undefined;
    return `arn:aws:sns:${this.options.region}:${this.accountId}:${topicName(topic, this.options.fifo)}`;
  }

  /**
   * No ARN seen yet on this driver: the account id comes from the first topic SNS lists (any
   * topic's ARN carries it), without creating anything; no topic at all means this one is missing.
   */
  private async discoverTopicArn(topic: string): Promise<string | undefined> {
    const page = await this.sns.send(new ListTopicsCommand({}));
    const any = page.Topics?.find((entry) => entry.TopicArn !== undefined)?.TopicArn;
    if (any === undefined) return undefined;
    this.accountId ??= any.split(':')[4];
    return this.knownTopicArn(topic);
  }

  private async deleteQueue(url: string): Promise<void> {
    try {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The queue policy that lets the topic deliver (without it SNS delivers nothing, and says so only in its delivery logs). */
function queuePolicy(queueArn: string, topicArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'omnibus-sns-delivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
}

function mismatch(
  spec: SubscriptionSpec,
  stored: string,
  asked: string,
  driver: string,
): OmnibusError {
  const read = (text: string) =>
    new Map(text.split(';').map((part) => part.split('=') as [string, string]));
  const have = read(stored);
  const want = read(asked);
  for (const name of ['deadLetter', 'maxAttempts', 'ordering']) {
    if (have.get(name) !== undefined && have.get(name) !== want.get(name)) {
      return new OmnibusError(
        'AlreadyExists',
        `subscription "${spec.subscription}" on topic "${spec.topic}" already exists with ${name} ${have.get(name)}; this consumer asks for ${name} ${want.get(name)} (${name} is fixed when a subscription is first created)`,
        { driver, retryable: false },
      );
    }
  }
  return new OmnibusError(
    'AlreadyExists',
    `subscription "${spec.subscription}" already exists with settings ${stored}`,
    {
      driver,
      retryable: false,
    },
  );
}
