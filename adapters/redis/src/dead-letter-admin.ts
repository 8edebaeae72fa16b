// Stats and the DLQ admin calls on a SubscriptionRef: peek (XRANGE), count, redrive (a snapshot), purge.
import type { DriverStats, StoredDeadLetter, SubscriptionRef } from '@omnibus/core/driver';
import type { RedisConnection } from './connection.js';
import { watchConnection } from './connection-watch.js';
import { decodeEntry, toDeadLetter } from './fields.js';
import { purgeStream } from './scripts/purge-stream.js';
import { redriveBatch } from './scripts/redrive-batch.js';
import type { Topology } from './topology.js';

const REDRIVE_BATCH = 500;

/** The driver methods that read or manage a subscription from outside its consumers. */
export interface DeadLetterAdmin {
  stats(ref: SubscriptionRef): Promise<DriverStats>;
  peekDeadLetters(ref: SubscriptionRef, limit: number): Promise<StoredDeadLetter[]>;
  countDeadLetters(ref: SubscriptionRef): Promise<number>;
  redriveDeadLetters(ref: SubscriptionRef, limit: number): Promise<number>;
  purgeDeadLetters(ref: SubscriptionRef): Promise<number>;
}

export function createDeadLetterAdmin(
  connection: RedisConnection,
  topology: Topology,
  maxLength: number,
): DeadLetterAdmin {
  const { client, guard } = connection;
  const watch = watchConnection(client);
  return {
    stats: (ref) =>
      guard(async () => {
        const { lag, pending, deadLettered } = await topology.counts(ref);
        return { waiting: lag >= 0 ? lag : undefined, inFlight: pending, deadLettered };
      }),

    peekDeadLetters: (ref, limit) =>
      guard(async () => {
        await topology.counts(ref);
        if (limit <= 0) return [];
        const stream = topology.subscription(ref).deadLetters;
        const count = Number.isFinite(limit) ? Math.floor(limit) : 1_000_000;
        const entries = (await watch.run(
          client.xrangeBuffer(stream, '-', '+', 'COUNT', count),
        )) as [Buffer, Buffer[]][];
        return entries.map(([rawId, fields]) => {
          const id = rawId.toString();
          return toDeadLetter(decodeEntry(id, fields), { stream, id, fields });
        });
      }),

    countDeadLetters: (ref) => guard(async () => (await topology.counts(ref)).deadLettered),

    redriveDeadLetters: (ref, limit) =>
      // A large DLQ takes many batches: each round trip is bounded, the whole redrive is not.
      guard(async () => {
        await connection.bound(topology.counts(ref));
        const keys = topology.subscription(ref);
        // What was there when the call began: a message dead-lettered again while the redrive
        // runs gets a newer id and stays for the next redrive.
        const newest = (await connection.bound(
          watch.run(client.xrevrange(keys.deadLetters, '+', '-', 'COUNT', 1)),
        )) as [string, string[]][];
        const lastId = newest[0]?.[0];
        if (lastId === undefined) return 0;
        let moved = 0;
        while (moved < limit) {
          const batch = Math.min(REDRIVE_BATCH, limit - moved);
          const count = await connection.bound(
            redriveBatch(client, keys, { limit: batch, maxLength, lastId }),
          );
          moved += count;
          if (count < batch) break;
        }
        return moved;
      }, false),

    purgeDeadLetters: (ref) =>
      guard(async () => {
        await topology.counts(ref);
        return purgeStream(client, topology.subscription(ref).deadLetters);
      }),
  };
}
