import { PORTABLE_RULES } from '@omnibus/core';
import { describe, expect } from 'vitest';
import {
  consumerOptions,
  expectOmnibusError,
  pullOne,
  type Suite,
  simulateWork,
  waitFor,
} from './helpers.js';

/**
 * Leases (at least the portable 10 s: Pub/Sub's shortest ack deadline). Every test here runs two consumers of one subscription on two buses (two "processes"),
 * so a lease that lapsed would show as a delivery to the idle competitor.
 *
 * What these tests cannot do through the public API: make a lease lapse. Core renews the lease of
 * every unsettled message (pushed or pulled) for as long as its bus is open, so a consumer that
 * stops renewing is one whose process died. The nearest public equivalent, a consumer that goes
 * away without settling, is in `faults`.
 */
export function registerLeaseTests(suite: Suite): void {
  describe('lease', () => {
    suite.test(
      'a handler that runs 1.5× the lease keeps its message (the lease is extended)',
      async (t) => {
        const lease = t.ackDeadlineMs;
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const other = await t.connect();
        const options = consumerOptions<string>({ concurrency: 1, ackDeadlineMs: lease });
        const first = t.bus.consumer<string>(topic, subscription, options);
        const second = other.consumer<string>(topic, subscription, options);
        await Promise.all([first.ready(), second.ready()]);
        const inbox = t.inbox<string>();
        let slowFinished = false;
        const behaviour = async (message: { body: string }) => {
          if (message.body !== 'slow') return;
          if (inbox.deliveries.filter((delivery) => delivery.body === 'slow').length > 1) return;
          await simulateWork(lease * 1.5);
          slowFinished = true;
        };
        await t.consume(first, inbox, behaviour, 'first');
        await t.consume(second, inbox, behaviour, 'second');
        const id = await t.bus.producer<string>(topic).send('slow');
        await waitFor(() => slowFinished, 'the slow handler to finish', lease * 1.5 + t.timeoutMs);
        const sentinel = await t.bus.producer<string>(topic).send('after');
        await inbox.waitForIds([sentinel]);
        expect(
          inbox.of(id).map((delivery) => `${delivery.consumer} attempt ${delivery.attempt}`),
          'the message was delivered again while its handler was still running',
        ).toHaveLength(1);
      },
      5_000,
    );

    suite.test(
      'a pulled message held past its lease stays with its holder until settled',
      async (t) => {
        const lease = t.ackDeadlineMs;
        const topic = t.name('topic');
        const subscription = t.name('sub');
        const other = await t.connect();
        const holder = t.bus.consumer<string>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1, ackDeadlineMs: lease }),
        );
        const competitor = other.consumer<string>(
          topic,
          subscription,
          consumerOptions({ concurrency: 1, ackDeadlineMs: lease }),
        );
        await Promise.all([holder.ready(), competitor.ready()]);
        const id = await t.bus.producer<string>(topic).send('held');
        const iterator = holder.messages();
        const message = (await iterator.next()).value!;
        expect(message.id).toBe(id);
        const competitorInbox = t.inbox<string>();
        await t.consume(competitor, competitorInbox);
        await message.extendLease(lease);
        await simulateWork(lease * 1.5);
        expect(competitorInbox.of(id), 'the held message went to another consumer').toHaveLength(0);
        expect(await message.ack()).toBe('acked');
        // The holder leaves first, so the sentinel can only go to the competitor.
        await iterator.return?.();
        await holder.stop();
        const sentinel = await t.bus.producer<string>(topic).send('after');
        await competitorInbox.waitForIds([sentinel]);
        expect(competitorInbox.of(id)).toHaveLength(0);
      },
      5_000,
    );

    suite.test(
      'extendLease rejects a lease beyond the portable bound (and capabilities.ackDeadline.maxMs)',
      async (t) => {
        const { iterator, message } = await pullOne(t, 'lease');
        const maxMs = Math.min(t.capabilities.ackDeadline.maxMs, PORTABLE_RULES.ackDeadlineMaxMs);
        await expectOmnibusError(
          () => message.extendLease(maxMs + 1),
          ['InvalidArgument'],
          'extendLease beyond the portable 600 000 ms',
        );
        await message.extendLease(maxMs);
        expect(await message.ack()).toBe('acked');
        await iterator.return?.();
      },
    );
  });
}
