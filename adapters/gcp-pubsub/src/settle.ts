// acknowledge and modifyAckDeadline in requests within the service's ack-id byte limit.
import type { Clients } from './clients.js';
import { SERVICE_LIMITS } from './service-limits.js';

/** Splits ack ids so each request stays within the service's 512 KiB of ack ids. */
function chunks(ackIds: readonly string[]): string[][] {
  const out: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const ackId of ackIds) {
    const size = Buffer.byteLength(ackId) + 8;
    if (chunk.length > 0 && bytes + size > SERVICE_LIMITS.ackIdBytesPerRequest) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(ackId);
    bytes += size;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** Acknowledges ack ids of one subscription. */
export async function acknowledge(
  clients: Clients,
  subscription: string,
  ackIds: readonly string[],
): Promise<void> {
  await Promise.all(
    chunks(ackIds).map((part) =>
      clients.call((options) =>
        clients.subscriber.acknowledge({ subscription, ackIds: part }, options),
      ),
    ),
  );
}

/** Sets the ack deadline of ack ids of one subscription, in seconds (0: redeliver now). */
export async function modifyAckDeadline(
  clients: Clients,
  subscription: string,
  ackIds: readonly string[],
  ackDeadlineSeconds: number,
): Promise<void> {
  await Promise.all(
    chunks(ackIds).map((part) =>
      clients.call((options) =>
        clients.subscriber.modifyAckDeadline(
          { subscription, ackIds: part, ackDeadlineSeconds },
          options,
        ),
      ),
    ),
  );
}

/** Groups entries by a number (the deadline in seconds), for one modifyAckDeadline per group. */
export function groupBy<T>(entries: readonly T[], key: (entry: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const entry of entries) {
    const k = key(entry);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [entry]);
    else group.push(entry);
  }
  return groups;
}
