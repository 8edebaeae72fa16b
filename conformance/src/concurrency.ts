import { describe, expect } from 'vitest';
import { consumerOptions, gate, range, type Suite, simulateWork } from './helpers.js';

/** The `concurrency` option: an upper bound that is also reached. */
export function registerConcurrencyTests(suite: Suite): void {
  describe('concurrency', () => {
    for (const concurrency of [1, 4]) {
      suite.test(
        `runs at most concurrency (${concurrency}) handlers at once, and reaches it`,
        async (t) => {
          const topic = t.name('topic');
          const consumer = t.bus.consumer<number>(
            topic,
            t.name('sub'),
            consumerOptions({ concurrency }),
          );
          await consumer.ready();
          const ids = await t.bus
            .producer<number>(topic)
            .sendBatch(range(24).map((n) => ({ body: n })));
          let active = 0;
          let peak = 0;
          // Handlers wait until the limit has been reached once, so "reaches it" can't depend on timing.
          const full = gate();
          const inbox = t.inbox<number>();
          await t.consume(consumer, inbox, async () => {
            active++;
            peak = Math.max(peak, active);
            if (active >= concurrency) full.open();
            await full.promise;
            await simulateWork(3);
            active--;
          });
          t.defer(() => full.open());
          await inbox.waitForIds(ids);
          expect(peak).toBe(concurrency);
          for (const id of ids) expect(inbox.of(id)).toHaveLength(1);
        },
      );
    }
  });
}
