// One consuming session (RedisSubscription): blocking reads, maintenance (schedules, reclaim), settling.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { expiredBeforeDelivery } from '@omnibus/core';
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
import { isNoGroup } from './classify-error.js';
import type { BlockingConnection, RedisClient } from './connection.js';
import { watchConnection } from './connection-watch.js';
import {
  carriedAttempt,
  type DeliveryHandle,
  decodeEntry,
  FIELD,
  toReceivedMessage,
} from './fields.js';
import { deadLetterEntry } from './scripts/dead-letter-entry.js';
import { extendLeases } from './scripts/extend-leases.js';
import { forgetConsumer } from './scripts/forget-consumer.js';
import { maintain } from './scripts/maintain.js';
import { redeliver } from './scripts/redeliver.js';
import { trimStream } from './scripts/trim-stream.js';
import type { SubscriptionKeys, Topology } from './topology.js';

/** Longest blocking read: `CLIENT UNBLOCK` ends it early whenever needed. */
const LONG_BLOCK_MS = 5_000;

/** What a {@link RedisSubscription} needs from its driver. */
export interface RedisSubscriptionContext {
  readonly client: RedisClient;
  readonly topology: Topology;
  readonly keys: SubscriptionKeys;
  /** As the consumer asked: its `ackDeadlineMs` is the lease of every delivery of this session. */
  readonly spec: SubscriptionSpec;
  /** How often maintenance runs (due scheduled messages, expired leases); the longest blocking read. */
  readonly pollIntervalMs: number;
  readonly trimIntervalMs: number;
  readonly staleConsumerMs: number;
  readonly maxLength: number;
  /** Opens the connection this session blocks on. */
  openBlockingConnection(): Promise<BlockingConnection>;
  /** Called once the session closed. */
  onClose(session: RedisSubscription): void;
}

/** A unique consumer name: host and pid for `XINFO CONSUMERS` readers, random for uniqueness. */
function consumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * One consuming session: a consumer (named per session) in the subscription's consumer group,
 * reading the topic stream and the subscription's retry stream.
 *
 * New entries come from `XREADGROUP … BLOCK` on a connection of the session's own, so it never
 * holds up the shared command connection. While a receive waits, the MAINTAIN script runs every
 * `pollIntervalMs` (sooner when a scheduled message falls due) on the command connection: it moves
 * due scheduled messages into the streams (their XADD wakes the blocked read by itself) and reclaims
 * entries whose lease expired (then `CLIENT UNBLOCK` wakes the read to hand them out). So the read
 * stays blocked for long stretches, keeping its place in Redis's FIFO of blocked consumers, and a
 * stop wakes it at once. On a Cluster the blocking connection goes straight to the master owning
 * the topic's slot, so that `CLIENT UNBLOCK` reaches the server the read blocks on.
 */
export class RedisSubscription implements DriverSubscription {
  readonly consumer = consumerName();
  private readonly context: RedisSubscriptionContext;
  private readonly keys: SubscriptionKeys;
  private readonly streams: readonly [string, string];
  /** maxAttempts for the backstop; 0 without a DLQ. */
  private readonly maxAttempts: number;
  /** What the backstop records: core's own lease-expiry verdict for the delivery after the last. */
  private readonly backstop: { readonly reason: string; readonly attempts: number };
  private blocking: BlockingConnection | undefined;
  private blockingId: number | undefined;
  /** A blocking read still on the wire; its messages are released if nobody takes them. */
  private pendingRead: Promise<void> | undefined;
  private cursors: [string, string] = ['0-0', '0-0'];
  private nextMaintenanceAt = 0;
  private nextTrimAt = 0;
  private closed = false;
  /** Reclaimed by background maintenance, not handed out yet. */
  private reclaimed: ReceivedMessage[] = [];
  private maintaining: Promise<'recovered' | undefined> | undefined;
  private maintenanceTimer: ReturnType<typeof setTimeout> | undefined;
  /** The blocking read on the wire, settled (never rejected) when it returns. */
  private readInFlight: Promise<unknown> | undefined;
  private waking = false;
  /** A receive is running: reclaimed messages will be handed out by it. */
  private receiving = false;

  constructor(context: RedisSubscriptionContext) {
    this.context = context;
    this.keys = context.keys;
    this.streams = [context.keys.stream, context.keys.retry];
    const { maxAttempts, deadLetter } = context.spec;
    this.maxAttempts = deadLetter && Number.isFinite(maxAttempts) ? maxAttempts : 0;
    // The backstop fires on the delivery after the one core would have dead-lettered: it records
    // what core would have said then (the same policy function, so the text is never copied).
    this.backstop = expiredBeforeDelivery(this.maxAttempts + 1, {
      maxAttempts: this.maxAttempts,
      deadLetter: this.maxAttempts > 0,
    }) ?? { reason: '', attempts: 0 };
    this.nextTrimAt = Date.now() + context.trimIntervalMs;
  }

  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const { signal } = request;
    const count = Math.max(1, request.maxMessages);
    this.receiving = true;
    try {
      while (!signal.aborted && !this.closed) {
        if (this.reclaimed.length > 0) return this.reclaimed.splice(0, count);
        if (Date.now() >= this.nextMaintenanceAt || this.maintaining !== undefined) {
          // The server lost the group (restart without persistence, or someone deleted it): the
          // maintenance made it again; let core call receive once more.
          if ((await this.maintenance(count)) === 'recovered') return [];
          continue;
        }
        this.scheduleMaintenance(count);
        const messages = await this.blockingRead(count, LONG_BLOCK_MS, signal);
        if (messages.length > 0) return messages;
      }
      return [];
    } finally {
      this.receiving = false;
      if (this.maintenanceTimer !== undefined) clearTimeout(this.maintenanceTimer);
      this.maintenanceTimer = undefined;
      if ((signal.aborted || this.closed) && this.reclaimed.length > 0)
        await this.releaseUnreturned(this.reclaimed.splice(0));
    }
  }

  /** Runs MAINTAIN once (joining a run in progress); reclaimed messages go to `this.reclaimed`. */
  private maintenance(count: number): Promise<'recovered' | undefined> {
    this.maintaining ??= (async (): Promise<'recovered' | undefined> => {
      try {
        this.reclaimed.push(...(await this.maintain(count)));
        this.maybeTrim();
        return undefined;
      } catch (error) {
        if (!isNoGroup(error)) throw error;
        await this.recover();
        return 'recovered';
      } finally {
        this.maintaining = undefined;
      }
    })();
    return this.maintaining;
  }

  /** While a read blocks: maintenance in the background, waking the read when it reclaimed some. */
  private scheduleMaintenance(count: number): void {
    if (this.maintenanceTimer !== undefined) return;
    this.maintenanceTimer = setTimeout(
      () => {
        this.maintenanceTimer = undefined;
        if (this.closed) return;
        this.maintenance(count).then(
          (outcome) => {
            if (!this.receiving) {
              // The receive it ran for has returned, and core may not ask again before these
              // leases run out (its slots are busy): held here, they would expire and be counted
              // again without any handler having seen them. Hand them back, uncounted.
              if (this.reclaimed.length > 0)
                this.releaseUnreturned(this.reclaimed.splice(0)).catch(() => undefined);
              return;
            }
            if (outcome === 'recovered' || this.reclaimed.length > 0) this.wakeRead();
            else if (this.readInFlight !== undefined) this.scheduleMaintenance(count);
          },
          // A failure (server unreachable) shows on the read as well; the next receive retries.
          () => undefined,
        );
      },
      Math.max(0, this.nextMaintenanceAt - Date.now()),
    );
  }

  private async maintain(count: number): Promise<ReceivedMessage[]> {
    const { client, spec, pollIntervalMs, maxLength } = this.context;
    const reply = await maintain(client, this.keys, {
      group: spec.subscription,
      consumer: this.consumer,
      count,
      minIdleMs: spec.ackDeadlineMs,
      cursors: this.cursors,
      maxAttempts: this.maxAttempts,
      backstop: this.backstop,
      topic: spec.topic,
      subscription: spec.subscription,
      maxLength,
    });
    this.cursors = reply.cursors;
    const now = Date.now();
    if (this.cursors[0] !== '0-0' || this.cursors[1] !== '0-0') {
      // The reclaim scan has not wrapped around yet: continue it on the next receive.
      this.nextMaintenanceAt = now;
    } else {
      const { nextDueMs } = reply;
      this.nextMaintenanceAt =
        now + (nextDueMs >= 0 ? Math.min(pollIntervalMs, Math.max(1, nextDueMs)) : pollIntervalMs);
    }
    return reply.reclaimed.map((entry) =>
      this.toMessage(entry.stream, entry.id, entry.fields, entry.attempt, entry.deliveries),
    );
  }

  private toMessage(
    stream: 0 | 1,
    id: string,
    fields: Buffer[],
    attempt: number,
    deliveries: number,
  ): ReceivedMessage {
    const handle: DeliveryHandle = { stream, id, deliveries };
    return toReceivedMessage(decodeEntry(id, fields), attempt, handle, {
      stream: this.streams[stream],
      id,
      fields,
    });
  }

  /** `XREADGROUP … BLOCK` on the session's own connection; returns [] on timeout or abort. */
  private async blockingRead(
    count: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const { connection } = await this.blockingConnection();
    const { subscription } = this.context.spec;
    if (this.blockingId === undefined) {
      // Sent ahead of the read on the same connection, so it is known before the read blocks.
      connection.client('ID').then(
        (id) => {
          this.blockingId = typeof id === 'number' ? id : undefined;
        },
        () => undefined,
      );
    }
    let settled = false;
    const parsed = connection
      .xreadgroupBuffer(
        'GROUP',
        subscription,
        this.consumer,
        'COUNT',
        count,
        'BLOCK',
        Math.max(1, Math.ceil(waitMs)),
        'STREAMS',
        this.streams[0],
        this.streams[1],
        '>',
        '>',
      )
      .then(
        (reply) => {
          settled = true;
          return this.parseRead(reply as unknown);
        },
        (error: unknown) => {
          settled = true;
          throw error;
        },
      );
    const inFlight = parsed.then(
      () => undefined,
      () => undefined,
    );
    this.readInFlight = inFlight;
    void inFlight.then(() => {
      if (this.readInFlight === inFlight) this.readInFlight = undefined;
    });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => {
        resolve('aborted');
        this.wakeRead();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    let outcome: ReceivedMessage[] | 'aborted';
    try {
      outcome = await Promise.race([parsed, aborted]);
    } catch (error) {
      // A blocked reader whose stream or group is deleted gets UNBLOCKED/NOGROUP.
      if (isNoGroup(error) || (error instanceof Error && error.message.startsWith('UNBLOCKED'))) {
        await this.recover();
        return [];
      }
      if (error instanceof Error && /^(MOVED|ASK) /.test(error.message)) {
        this.dropBlockingConnection();
        return [];
      }
      // A connection that gave up reconnecting is replaced on the next read.
      if (connection.status === 'end') this.dropBlockingConnection();
      if (signal.aborted || this.closed) return [];
      throw error;
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
    if (outcome !== 'aborted' && !signal.aborted && !this.closed) {
      if (outcome.length <= count) return outcome;
      // COUNT applies per stream: both streams had entries. Hand back the extras, uncounted.
      await this.releaseUnreturned(outcome.slice(count));
      return outcome.slice(0, count);
    }
    if (outcome !== 'aborted') {
      await this.releaseUnreturned(outcome);
      return [];
    }
    if (!settled) {
      // The read is still on the wire: whatever it brings back was never handed out.
      const late = parsed.then(
        (messages) => this.releaseUnreturned(messages),
        () => undefined,
      );
      this.pendingRead = late;
      void late.finally(() => {
        if (this.pendingRead === late) this.pendingRead = undefined;
      });
    }
    return [];
  }

  private parseRead(reply: unknown): ReceivedMessage[] {
    if (!Array.isArray(reply)) return [];
    const messages: ReceivedMessage[] = [];
    for (const streamReply of reply as [Buffer, [Buffer, Buffer[]][]][]) {
      const name = streamReply[0].toString();
      const stream = name.endsWith(this.streams[1]) ? 1 : 0;
      for (const [rawId, fields] of streamReply[1]) {
        if (!Array.isArray(fields)) continue;
        const id = rawId.toString();
        // Only redeliveries (the retry stream) carry the attempts already used.
        let carried = 0;
        if (stream === 1) {
          for (let index = 0; index + 1 < fields.length; index += 2) {
            if (fields[index]!.toString('latin1') === FIELD.attempts) {
              carried = carriedAttempt(fields[index + 1]!.toString('latin1'));
            }
          }
        }
        messages.push(this.toMessage(stream, id, fields, carried + 1, 1));
      }
    }
    return messages;
  }

  /**
   * Ends the blocked read now (`CLIENT UNBLOCK`, which makes it return as if it timed out) instead
   * of waiting out its block. Repeated until the read returns: an UNBLOCK that overtakes the read on
   * its way to the server finds nothing to unblock.
   */
  private wakeRead(): void {
    const read = this.readInFlight;
    const blocking = this.blocking;
    if (this.waking || read === undefined || blocking === undefined) return;
    this.waking = true;
    void (async () => {
      try {
        for (let tries = 0; tries < 500 && this.readInFlight === read; tries++) {
          const id = this.blockingId;
          const control = blocking.control();
          if (id !== undefined && control !== undefined)
            await control.client('UNBLOCK', id).catch(() => undefined);
          await Promise.race([read, new Promise((resolve) => setTimeout(resolve, 10))]);
        }
      } finally {
        this.waking = false;
      }
    })();
  }

  private async blockingConnection(): Promise<BlockingConnection> {
    if (this.blocking === undefined) {
      const blocking = await this.context.openBlockingConnection();
      // A reconnected connection has a new client id.
      blocking.connection.on('close', () => {
        this.blockingId = undefined;
      });
      this.blocking = blocking;
    }
    return this.blocking;
  }

  /** After MOVED (the slot moved to another node): block on the new owner next time. */
  private dropBlockingConnection(): void {
    const blocking = this.blocking;
    this.blocking = undefined;
    this.blockingId = undefined;
    blocking?.connection.disconnect();
  }

  /** Hands messages that were read but never returned back: a release, so not an attempt. */
  private async releaseUnreturned(messages: readonly ReceivedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const result = await this.release(
      messages.map((message) => ({ handle: message.handle, attempt: message.attempt, message })),
    );
    if (result !== undefined && result.failed.length > 0) throw result.failed[0]!.error;
  }

  private async recover(): Promise<void> {
    this.cursors = ['0-0', '0-0'];
    await this.context.topology.recover(this.context.spec);
  }

  private maybeTrim(): void {
    const { trimIntervalMs, staleConsumerMs } = this.context;
    if (trimIntervalMs <= 0 || Date.now() < this.nextTrimAt) return;
    this.nextTrimAt = Date.now() + trimIntervalMs;
    const kinds = ['topic', 'retry'] as const;
    this.streams.forEach((stream, index) => {
      trimStream(
        this.context.client,
        { stream, subscriptions: this.keys.subscriptions },
        { staleConsumerMs, kind: kinds[index]! },
      ).catch(() => undefined);
    });
  }

  /** One XACK per stream; a failed one fails the entries of its stream. */
  async ack(handles: readonly unknown[]): Promise<BatchResult | undefined> {
    const byStream: [number[], number[]] = [[], []];
    handles.forEach((handle, index) => {
      byStream[(handle as DeliveryHandle).stream].push(index);
    });
    const { client, spec } = this.context;
    const watch = watchConnection(client);
    return settleEach(
      ([0, 1] as const)
        .filter((stream) => byStream[stream].length > 0)
        .map((stream) => ({
          indexes: byStream[stream],
          run: () =>
            watch.run(
              client.xack(
                this.streams[stream],
                spec.subscription,
                ...byStream[stream].map((index) => (handles[index] as DeliveryHandle).id),
              ),
            ),
        })),
    );
  }

  nack(requests: readonly NackRequest[]): Promise<BatchResult | undefined> {
    // The copy carries the attempts that ended, this one included.
    return this.redeliverEach(requests, (request) => ({
      delayMs: request.delayMs,
      carriedAttempts: request.attempt,
    }));
  }

  release(requests: readonly ReleaseRequest[]): Promise<BatchResult | undefined> {
    // No handler saw it, so no attempt ended: the copy carries one fewer, and the next read's +1
    // gives the next delivery the same attempt as this one.
    return this.redeliverEach(requests, (request) => ({
      delayMs: 0,
      carriedAttempts: request.attempt - 1,
    }));
  }

  private redeliverEach<R extends { readonly handle: unknown }>(
    requests: readonly R[],
    how: (request: R) => { delayMs: number; carriedAttempts: number },
  ): Promise<BatchResult | undefined> {
    const { client, spec, maxLength } = this.context;
    return settleEach(
      requests.map((request, index) => ({
        indexes: [index],
        run: () => {
          const { stream, id, deliveries } = request.handle as DeliveryHandle;
          return redeliver(
            client,
            {
              source: this.streams[stream],
              retry: this.keys.retry,
              retryDelayed: this.keys.retryDelayed,
            },
            {
              group: spec.subscription,
              consumer: this.consumer,
              id,
              deliveries,
              ...how(request),
              nonce: randomBytes(6).toString('base64url'),
              maxLength,
            },
          );
        },
      })),
    );
  }

  extendLease(requests: readonly LeaseRequest[]): Promise<BatchResult | undefined> {
    const { client, spec } = this.context;
    // XCLAIM's IDLE is how long ago the lease started: a lease of leaseMs ends at ackDeadline - idle.
    const groups = new Map<string, { stream: 0 | 1; idle: number; indexes: number[] }>();
    requests.forEach((request, index) => {
      const { stream } = request.handle as DeliveryHandle;
      const idle = Math.max(0, spec.ackDeadlineMs - Math.ceil(request.leaseMs));
      const key = `${stream}:${idle}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { stream, idle, indexes: [] };
        groups.set(key, group);
      }
      group.indexes.push(index);
    });
    return settleEach(
      [...groups.values()].map(({ stream, idle, indexes }) => ({
        indexes,
        run: () =>
          extendLeases(client, this.streams[stream], {
            group: spec.subscription,
            consumer: this.consumer,
            idleMs: idle,
            entries: indexes.map((index) => requests[index]!.handle as DeliveryHandle),
          }),
      })),
    );
  }

  deadLetter(requests: readonly DeadLetterRequest[]): Promise<BatchResult | undefined> {
    const { client, spec, maxLength } = this.context;
    return settleEach(
      requests.map((request, index) => ({
        indexes: [index],
        run: () => {
          const { stream, id, deliveries } = request.handle as DeliveryHandle;
          return deadLetterEntry(
            client,
            { source: this.streams[stream], deadLetters: this.keys.deadLetters },
            {
              group: spec.subscription,
              consumer: this.consumer,
              id,
              deliveries,
              reason: request.reason,
              attempts: request.attempts,
              topic: spec.topic,
              subscription: spec.subscription,
              maxLength,
            },
          );
        },
      })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintenanceTimer !== undefined) clearTimeout(this.maintenanceTimer);
    this.wakeRead();
    const blocking = this.blocking;
    // CLIENT UNBLOCK ends it at once on standalone Redis; on a Cluster it lasts one slice at most.
    if (this.readInFlight !== undefined) await this.readInFlight;
    if (this.pendingRead !== undefined) await this.pendingRead;
    if (this.maintaining !== undefined) await this.maintaining.catch(() => undefined);
    if (this.reclaimed.length > 0)
      await this.releaseUnreturned(this.reclaimed.splice(0)).catch(() => undefined);
    if (blocking !== undefined) {
      this.blocking = undefined;
      await blocking.connection.quit().catch(() => blocking.connection.disconnect());
    }
    // Leave no empty consumer behind in the group; one still holding leased messages stays until
    // they are settled or reclaimed (the trim pass forgets it later).
    const { client, spec } = this.context;
    await forgetConsumer(client, this.keys, {
      group: spec.subscription,
      consumer: this.consumer,
    }).catch(() => undefined);
    this.context.onClose(this);
  }
}

/**
 * Runs the commands of one settle call side by side (ioredis pipelines them on the connection) and
 * reports, entry by entry, those whose command failed. NOGROUP is no failure: the entries are gone
 * with the group, so nothing is left to settle.
 */
async function settleEach(
  commands: readonly { readonly indexes: readonly number[]; run(): Promise<unknown> }[],
): Promise<BatchResult | undefined> {
  const results = await Promise.allSettled(commands.map((command) => command.run()));
  const failed: { index: number; error: unknown }[] = [];
  results.forEach((result, n) => {
    if (result.status === 'rejected' && !isNoGroup(result.reason))
      for (const index of commands[n]!.indexes) failed.push({ index, error: result.reason });
  });
  if (failed.length === 0) return undefined;
  return { failed: failed.sort((a, b) => a.index - b.index) };
}
