// The names Omnibus metadata goes by on the wire: one spelling for every adapter.

/**
 * Where a broker has no slot of its own for a piece of Omnibus metadata, an adapter carries it in
 * a field, header or attribute of these names (and nowhere else: the `omnibus` prefix is reserved,
 * so a user attribute never clashes). Where the broker has a slot, the adapter uses it instead
 * (RabbitMQ's `message_id` and `content_type` properties; the Redis stream entry's `body` field),
 * and its README's Mapping section says which.
 *
 * One spelling, chosen from the two the adapters had (Redis `FIELD`, RabbitMQ `HEADER`): the
 * longer, self-explaining name, and `traceparent` for trace context as W3C and OpenTelemetry's
 * messaging instrumentations name it. Values are strings (or, where the broker has typed headers,
 * numbers) in the formats given; a value that doesn't parse is ignored as if absent.
 */
export const WIRE = {
  /** The message id (`OutgoingMessage.id`), stable across redeliveries, dead-lettering and redrive. */
  id: 'omnibus-id',
  /** The body's MIME type, where the broker has no content-type slot; absent means `application/json`. */
  contentType: 'omnibus-content-type',
  /** When the message was first sent: epoch milliseconds, decimal. */
  publishedAt: 'omnibus-published-at',
  /** The ordering key, where the broker has no slot for it (SQS FIFO and Pub/Sub do). */
  orderingKey: 'omnibus-ordering-key',
  /**
   * Deliveries that already ended before this copy was written (a re-publish through a delay queue
   * or a retry stream, which restarts the broker's own count): decimal, 0 when absent.
   */
  attempts: 'omnibus-attempts',
  /** W3C trace context of the send (`00-<trace>-<span>-<flags>`). */
  traceparent: 'traceparent',
  /** Why the message was dead-lettered, verbatim as core wrote it. */
  deadLetterReason: 'omnibus-dead-letter-reason',
  /** Deliveries a handler got before the message was dead-lettered: decimal. */
  deadLetterAttempts: 'omnibus-dead-letter-attempts',
  /** When it was dead-lettered: epoch milliseconds, decimal. */
  deadLetteredAt: 'omnibus-dead-lettered-at',
  /** The topic a dead letter came from, where a DLQ holds letters of several. */
  sourceTopic: 'omnibus-source-topic',
  /** The subscription a dead letter came from, where a DLQ holds letters of several. */
  sourceSubscription: 'omnibus-source-subscription',
  /** Times the message was redriven out of a DLQ: decimal, 0 when absent. Read by the redrive-loop guard. */
  redrives: 'omnibus-redrives',
} as const;

/** One of the {@link WIRE} names. */
export type WireName = (typeof WIRE)[keyof typeof WIRE];
