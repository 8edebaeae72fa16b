/** Anything with Omnibus's `sendBatch` shape. */
export interface BatchSender<T> {
  sendBatch(entries: { body: T }[]): Promise<unknown>;
}

/** Sends `bodies[0 … count)` through `producer.sendBatch`, `batchSize` at a time, one batch after another. */
export async function sendInBatches<T>(
  producer: BatchSender<T>,
  bodies: readonly T[],
  count: number,
  batchSize: number,
): Promise<void> {
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    const entries: { body: T }[] = new Array(end - start);
    for (let index = start; index < end; index++) entries[index - start] = { body: bodies[index]! };
    await producer.sendBatch(entries);
  }
}
