import type { ConsumerStats } from '@omnibus/core';
import { describe, expect } from 'vitest';
import { consumerOptions, type Suite, sendAll, type TestKit } from './helpers.js';

type Expected = { waiting: number; inFlight: number; deadLettered: number };

/**
 * Waits until every number `capabilities.stats` declares equals `expected`, and checks that every
 * undeclared one is `undefined` (never a guess) and that exactly the ones declared `approximate` are
 * named in `stats.approximate`. An approximate count is held to the same figure: brokers that
 * estimate (SQS) converge on it while the test waits.
 */
async function expectStats(
  t: TestKit,
  read: () => Promise<ConsumerStats>,
  expected: Expected,
  step: string,
): Promise<void> {
  const declared = t.capabilities.stats;
  let last: ConsumerStats = { approximate: [] };
  const keys = ['waiting', 'inFlight', 'deadLettered'] as const;
  await t.waitFor(
    async () => {
      last = await read();
      return keys.every((key) => !declared[key] || last[key] === expected[key]);
    },
    () =>
      `stats ${step}: want ${JSON.stringify(expected)} for the declared ${JSON.stringify(declared)}, have ${JSON.stringify(last)}`,
  );
  const approximate = keys.filter((key) => declared[key] === 'approximate');
  expect(
    [...last.approximate].sort(),
    `stats.approximate names exactly the numbers capabilities.stats declares approximate (${step})`,
  ).toEqual(approximate.sort());
  for (const key of keys) {
    if (!declared[key])
      expect(
        last[key],
        `stats.${key} is not declared, so it must be undefined (${step})`,
      ).toBeUndefined();
  }
}

/** consumer.stats(): exact where declared, undefined where not. */
export function registerStatsTests(suite: Suite): void {
  describe('stats', () => {
    suite.test(
      'stats are exact where capabilities.stats declares them and undefined elsewhere',
      async (t) => {
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const observer = t.bus.consumer(topic, subscription, consumerOptions());
        await observer.ready();
        const read = () => observer.stats();
        await expectStats(
          t,
          read,
          { waiting: 0, inFlight: 0, deadLettered: 0 },
          'of a new subscription',
        );

        await sendAll(t.bus.producer<number>(topic), [1, 2, 3]);
        await expectStats(
          t,
          read,
          { waiting: 3, inFlight: 0, deadLettered: 0 },
          'after three sends',
        );

        // concurrency 1: the pull consumer holds exactly one message.
        const puller = t.bus.consumer<number>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1 }),
        );
        const iterator = puller.messages();
        const held = (await iterator.next()).value!;
        await expectStats(
          t,
          read,
          { waiting: 2, inFlight: 1, deadLettered: 0 },
          'while one message is held',
        );

        // Stop taking more before settling, so the freed slot is not refilled.
        const stopping = puller.stop();
        await held.deadLetter('counted');
        await stopping;
        await expectStats(
          t,
          read,
          { waiting: 2, inFlight: 0, deadLettered: 1 },
          'after dead-lettering it',
        );
      },
    );
  });
}
