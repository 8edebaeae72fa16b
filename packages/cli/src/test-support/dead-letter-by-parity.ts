// Fills a DLQ for the dlq commands' tests as a failing worker would: two reasons, by the parity of each body's n.
import type { Bus } from '@omnibus/core';
import { waitUntil } from '@omnibus/test-brokers';

/**
 * Dead-letters every `{ n }` message `subscription` of `topic` holds: even n with `reasons[0]`, odd
 * n with `reasons[1]`. Resolves once its DLQ counts `expected` letters (or more, where the broker's
 * count is an estimate), the worker stopped.
 */
export async function deadLetterByParity(
  bus: Bus,
  topic: string,
  subscription: string,
  reasons: readonly [even: string, odd: string],
  expected: number,
): Promise<void> {
  const consumer = bus.consumer<{ n: number }>(topic, subscription, { concurrency: 50 });
  await consumer.start((message) => message.deadLetter(reasons[message.body.n % 2]!));
  const dlq = bus.deadLetters(topic, subscription);
  await waitUntil(
    async () => (await dlq.count()) >= expected,
    `${expected} dead letters`,
    60_000,
    250,
  );
  await consumer.stop();
}
