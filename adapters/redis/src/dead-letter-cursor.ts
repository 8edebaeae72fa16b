// The DLQ cursor (openDeadLetters): a browse by stream id over the DLQ, with per-letter redrive and discard.
import { OmnibusError } from '@omnibus/core';
import type {
  BatchResult,
  DeadLetterCursor,
  HeldDeadLetter,
  SubscriptionRef,
} from '@omnibus/core/driver';
import type { RedisConnection } from './connection.js';
import { watchConnection } from './connection-watch.js';
import { decodeEntry, toDeadLetter } from './fields.js';
import { redriveLetters } from './scripts/redrive-letters.js';
import type { Topology } from './topology.js';

/**
 * Opens a cursor on the subscription's DLQ stream (`NotFound` if the subscription doesn't exist).
 * Reading is a browse: `next` is `XRANGE (last-id-seen newest COUNT n`, so letters are never held
 * or hidden from other readers, and `close` has nothing to release. The cursor stops at the newest
 * letter present when it opened: one dead-lettered again after a redrive (a new entry, a newer id)
 * is never handed out twice. A letter's handle is its stream id; redrive is one script call per
 * page (the bulk redrive's copy, per id), discard one pipelined `XDEL` per id. A letter no longer in
 * the DLQ (another reader took it) is reported `NotFound` in the `BatchResult`.
 */
export async function openDeadLetterCursor(
  connection: RedisConnection,
  topology: Topology,
  ref: SubscriptionRef,
  maxLength: number,
): Promise<DeadLetterCursor> {
  const { client, guard } = connection;
  const watch = watchConnection(client);
  const keys = topology.subscription(ref);
  const stream = keys.deadLetters;
  const newest = await guard(async () => {
    await topology.counts(ref);
    const reply = (await watch.run(client.xrevrange(stream, '+', '-', 'COUNT', 1))) as [
      string,
      string[],
    ][];
    return reply[0]?.[0];
  });
  let after: string | undefined;
  let done = newest === undefined;
  const idOf = (letter: HeldDeadLetter) => letter.handle as string;
  /** A `NotFound` entry for each letter that was no longer in the DLQ (`done[i]` false). */
  const gone = (
    letters: readonly HeldDeadLetter[],
    done: readonly boolean[],
  ): BatchResult | undefined => {
    const failed = done.flatMap((wasThere, index) =>
      wasThere
        ? []
        : [
            {
              index,
              error: new OmnibusError(
                'NotFound',
                `dead letter ${letters[index]!.id} is no longer in the DLQ of subscription "${ref.subscription}" on topic "${ref.topic}" (another reader redrove or discarded it)`,
                { driver: 'redis' },
              ),
            },
          ],
    );
    return failed.length > 0 ? { failed } : undefined;
  };

  return {
    next: (maxMessages) =>
      guard(async (): Promise<HeldDeadLetter[]> => {
        if (done || newest === undefined || maxMessages <= 0) return [];
        const start = after === undefined ? '-' : `(${after}`;
        const entries = (await watch.run(
          client.xrangeBuffer(stream, start, newest, 'COUNT', Math.floor(maxMessages)),
        )) as [Buffer, Buffer[]][];
        if (entries.length < maxMessages) done = true;
        return entries.map(([rawId, fields]) => {
          const id = rawId.toString();
          after = id;
          if (id === newest) done = true;
          return { ...toDeadLetter(decodeEntry(id, fields), { stream, id, fields }), handle: id };
        });
      }),

    redrive: (letters) =>
      guard(async (): Promise<BatchResult | undefined> => {
        const moved = await redriveLetters(client, keys, {
          streamIds: letters.map(idOf),
          maxLength,
        });
        return gone(letters, moved);
      }),

    discard: (letters) =>
      guard(async (): Promise<BatchResult | undefined> => {
        if (letters.length === 0) return undefined;
        // One XDEL per id (pipelined, one slot): the reply says, letter by letter, whether it was there.
        const pipeline = client.pipeline();
        for (const letter of letters) pipeline.xdel(stream, idOf(letter));
        const replies = (await watch.run(pipeline.exec())) ?? [];
        const errors = replies.flatMap(([error], index) => (error ? [{ index, error }] : []));
        if (errors.length > 0) return { failed: errors };
        return gone(
          letters,
          replies.map(([, deleted]) => Number(deleted) === 1),
        );
      }),

    close: async () => {
      done = true;
    },
  };
}
