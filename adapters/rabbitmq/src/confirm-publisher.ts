// Publishes over one shared confirm channel: pipelined confirms, per-message outcomes, mandatory returns, bounded waits.
import { OmnibusError } from '@omnibus/core';
import type { BatchResult } from '@omnibus/core/driver';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { classifyError } from './classify-error.js';
import { HEADER_TABLE_MAX_BYTES, headerFrameSize, shrinkToFit } from './header-frame-size.js';
import type { ReconnectingConnection } from './reconnecting-connection.js';

/** One message for {@link ConfirmPublisher.publish}. */
export interface Publication {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  /**
   * For copies of received messages: headers that don't fit one frame are dropped (largest of
   * those `keep` refuses first), and then the `shorten` header cut, instead of failing.
   */
  readonly shrink?: { keep(name: string): boolean; shorten: string };
}

/** Why one message of a batch was certainly not taken, by its index in the batch. */
type Failures = { index: number; error: unknown }[];

/**
 * Publishes over one confirm channel, shared by every caller. A batch is written in one go and its
 * confirms awaited together, so throughput doesn't pay a round trip per message. Outcomes are per
 * message: the broker's ack confirms one, a `basic.nack` or a `basic.return` of a `mandatory`
 * message (no queue to take it; RabbitMQ acks a returned message, so returns are matched to their
 * confirm here) says that one was certainly not taken. A channel that closes, or confirms that
 * don't arrive in time, leave the fate of the unconfirmed ones unknown: that rejects the whole call.
 */
export class ConfirmPublisher {
  #channel: ConfirmChannel | undefined;
  #opening: Promise<ConfirmChannel> | undefined;
  /** Why the last channel closed, when the broker said (e.g. 404 for a deleted exchange). */
  #closeReason = new WeakMap<ConfirmChannel, Error>();
  /** Returned mandatory messages not yet matched with their confirm, by exchange/key/id. */
  #returned = new Map<string, number>();
  /**
   * Channels whose socket buffer was full after the last batch, with the one wait for their
   * drain that every later batch shares: a listener per waiting caller would pile up (and warn
   * MaxListenersExceeded) while an outage keeps the buffer full.
   */
  #drained = new WeakMap<ConfirmChannel, Promise<void>>();
  readonly #channelClosedListeners = new Set<(error: Error | undefined) => void>();

  constructor(
    private readonly connection: ReconnectingConnection,
    private readonly driverName: string,
    /** Bound on one publish call: channel, drain and confirms (operationTimeoutMs). */
    private readonly timeoutMs: number,
  ) {}

  /** Calls `listener` whenever the confirm channel closes, with the broker's reason if any. */
  onChannelClosed(listener: (error: Error | undefined) => void): void {
    this.#channelClosedListeners.add(listener);
  }

  /**
   * Resolves once every publication is confirmed; rejects with the first failure otherwise (for the
   * adapter's own copies, each published on its own).
   */
  async publish(publications: readonly Publication[]): Promise<void> {
    const result = await this.publishBatch(publications);
    if (result !== undefined && result.failed.length > 0) throw result.failed[0]!.error;
  }

  /**
   * Resolves once every publication is confirmed or certainly refused, with the refused ones:
   * `MessageTooLarge` (not retryable) for a message whose headers can't fit one frame, found before
   * anything is written; `NotFound` for a mandatory message returned; the broker's nack. Rejects
   * `Unavailable` (retryable) when the confirms don't all arrive within the time bound or the
   * channel closes first: the broker may or may not have taken those messages.
   */
  async publishBatch(publications: readonly Publication[]): Promise<BatchResult | undefined> {
    if (publications.length === 0) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new OmnibusError(
              'Unavailable',
              `publish not confirmed within ${this.timeoutMs} ms (80 % of operationTimeoutMs): the broker may or may not have taken the message`,
              { retryable: true, driver: this.driverName },
            ),
          ),
        this.timeoutMs,
      );
    });
    const work = this.#publish(publications);
    // A confirm that arrives after the deadline settles `work` with nobody listening.
    work.catch(() => undefined);
    try {
      const failed = await Promise.race([work, expired]);
      return failed.length === 0 ? undefined : { failed };
    } finally {
      clearTimeout(timer);
    }
  }

  async #publish(publications: readonly Publication[]): Promise<Failures> {
    const channel = await this.#getChannel();
    const failed = this.#checkFrames(channel, publications);
    const sendable = publications.length - failed.length;
    if (sendable === 0) return failed;
    // Backpressure per batch, not per message: a batch is written in one go (a drain wait inside
    // it would cost a socket round trip every ~60 messages), and the next batch waits for the drain.
    const drained = this.#drained.get(channel);
    if (drained !== undefined) await drained;
    // One promise per batch, settled by a countdown of confirms: no allocation per confirmed message.
    let remaining = sendable;
    let unknownFate: unknown;
    let settle!: () => void;
    const confirmed = new Promise<Failures>((resolve, reject) => {
      settle = () => (unknownFate === undefined ? resolve(failed) : reject(unknownFate));
    });
    const onResult = (index: number, outcome: Outcome) => {
      if (outcome !== undefined) {
        if (outcome.certain) failed.push({ index, error: outcome.error });
        else unknownFate ??= outcome.error;
      }
      if (--remaining === 0) settle();
    };
    let full = false;
    const refused = new Set(failed.map((entry) => entry.index));
    publications.forEach((publication, index) => {
      if (refused.has(index)) return;
      if (!this.#send(channel, publication, (outcome) => onResult(index, outcome))) full = true;
    });
    if (full && !this.#drained.has(channel)) {
      this.#drained.set(
        channel,
        waitForDrain(channel).then(() => {
          this.#drained.delete(channel);
        }),
      );
    }
    const result = await confirmed;
    return result.sort((a, b) => a.index - b.index);
  }

  /**
   * RabbitMQ carries all of a message's properties and headers in one frame of at most the
   * negotiated `frame_max`, and closes the whole connection when one is larger (every other
   * caller's publishes with it). Such a message can never be sent: it is refused before any write.
   */
  #checkFrames(channel: ConfirmChannel, publications: readonly Publication[]): Failures {
    const frameMax = (channel.connection as { frameMax?: unknown }).frameMax;
    const frameLimit = typeof frameMax === 'number' && frameMax > 0 ? frameMax : Infinity;
    const failed: Failures = [];
    publications.forEach((publication, index) => {
      let size = headerFrameSize(publication.options);
      if (size.frame <= frameLimit && size.table <= HEADER_TABLE_MAX_BYTES) return;
      if (publication.shrink !== undefined) {
        shrinkToFit(
          publication.options,
          frameLimit,
          publication.shrink.keep,
          publication.shrink.shorten,
        );
        size = headerFrameSize(publication.options);
        if (size.frame <= frameLimit && size.table <= HEADER_TABLE_MAX_BYTES) return;
      }
      const limit =
        size.frame > frameLimit
          ? `the connection's negotiated frame size (frame_max) of ${frameLimit} bytes`
          : `amqplib's ${HEADER_TABLE_MAX_BYTES}-byte limit for a header table`;
      const error = new OmnibusError(
        'MessageTooLarge',
        `message ${JSON.stringify(String(publication.options.messageId ?? ''))} was not sent: its attributes and metadata encode to ${size.frame} bytes of AMQP headers (${size.table} of them user and Omnibus headers), over ${limit}. RabbitMQ carries all headers in one frame: move large values into the body`,
        { retryable: false, driver: this.driverName },
      );
      failed.push({ index, error });
    });
    return failed;
  }

  /** Writes one message; `onResult` gets `undefined` once it is confirmed, else the outcome. Returns false when the socket buffer is full. */
  #send(
    channel: ConfirmChannel,
    publication: Publication,
    onResult: (outcome: Outcome) => void,
  ): boolean {
    const onConfirm = (error: unknown) => {
      if (error) onResult(this.#confirmOutcome(channel, error));
      else if (publication.options.mandatory === true && this.#takeReturn(returnKey(publication))) {
        onResult({
          certain: true,
          error: new OmnibusError(
            'NotFound',
            `RabbitMQ returned the message: no queue is bound for routing key "${publication.routingKey}" on ${exchangeLabel(publication.exchange)}`,
            { driver: this.driverName },
          ),
        });
      } else onResult(undefined);
    };
    try {
      return channel.publish(
        publication.exchange,
        publication.routingKey,
        publication.content,
        publication.options,
        onConfirm,
      );
    } catch (error) {
      // amqplib throws synchronously once the channel is closed.
      onResult(this.#confirmOutcome(channel, error));
      return true;
    }
  }

  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel !== undefined) await channel.close().catch(() => undefined);
  }

  #getChannel(): Promise<ConfirmChannel> {
    if (this.#channel !== undefined) return Promise.resolve(this.#channel);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<ConfirmChannel> {
    const connection = await this.connection.get();
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => this.#closeReason.set(channel, error));
    channel.on('return', (message: Message) => {
      const key = returnKey({
        exchange: message.fields.exchange,
        routingKey: message.fields.routingKey,
        options: { messageId: message.properties.messageId },
      });
      this.#returned.set(key, (this.#returned.get(key) ?? 0) + 1);
    });
    channel.on('close', () => {
      if (this.#channel === channel) this.#channel = undefined;
      for (const listener of this.#channelClosedListeners) listener(this.#closeReason.get(channel));
    });
    this.#channel = channel;
    return channel;
  }

  #takeReturn(key: string): boolean {
    const count = this.#returned.get(key);
    if (count === undefined) return false;
    if (count <= 1) this.#returned.delete(key);
    else this.#returned.set(key, count - 1);
    return true;
  }

  /**
   * A failed confirm. A `basic.nack` (amqplib: "message nacked") on a live channel says the broker
   * did not take this message; anything else (the channel or connection closed) leaves it unknown.
   */
  #confirmOutcome(channel: ConfirmChannel, error: unknown): Outcome {
    const closeReason = this.#closeReason.get(channel);
    const nacked =
      closeReason === undefined && error instanceof Error && /nacked/.test(error.message);
    return { certain: nacked, error: this.#confirmError(channel, error) };
  }

  #confirmError(channel: ConfirmChannel, error: unknown): OmnibusError {
    // A channel the broker closed says why (404: the exchange is gone); otherwise the
    // connection dropped and the message may or may not have been taken: retryable.
    const cause = this.#closeReason.get(channel) ?? error;
    const classification = classifyError(cause) ?? {
      code: 'Unavailable' as const,
      retryable: true,
    };
    const text = cause instanceof Error ? cause.message : String(cause);
    const unconfirmed = /nacked/.test(text)
      ? 'the broker nacked the message'
      : `the message was not confirmed: ${text}`;
    return new OmnibusError(classification.code, `publish failed, ${unconfirmed}`, {
      retryable: classification.retryable,
      driver: this.driverName,
      cause,
    });
  }
}

/** A message's outcome: `undefined` once confirmed, else the error and whether it certainly wasn't taken. */
type Outcome = { readonly certain: boolean; readonly error: unknown } | undefined;

function returnKey(
  publication: Pick<Publication, 'exchange' | 'routingKey'> & { options: { messageId?: unknown } },
): string {
  return `${publication.exchange}\u0000${publication.routingKey}\u0000${String(publication.options.messageId ?? '')}`;
}

function exchangeLabel(exchange: string): string {
  return exchange === '' ? 'the default exchange' : `exchange "${exchange}"`;
}

/** One wait for `drain` (or `close`, after which nothing will drain). */
function waitForDrain(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}
