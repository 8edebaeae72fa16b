// Pulling ahead of core: a consumer keeps a bounded few messages, renews them rather than releasing them, and hands them back when it stops.
import { type Bus, connect, type Message } from '@omnibus/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from './clients.js';
import { gcpPubSub } from './gcp-pubsub.js';
import type { PulledMessage } from './message-mapping.js';
import { AHEAD_PER_SLOT } from './pubsub-subscription.js';
import { EMULATOR_HOST, emulatorUnavailable, PROJECT_ID } from './testing/emulator.js';

const unavailable = await emulatorUnavailable();
const prefix = `pa${Date.now().toString(36)}-`;

/** A promise and its resolver, for handlers held until the test lets them go. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Resolves once `condition` holds, checked each time `changed` is called. */
function waitUntil(condition: () => boolean): { changed(): void; reached: Promise<void> } {
  const { opened, open } = gate();
  const changed = () => {
    if (condition()) open();
  };
  return { changed, reached: opened };
}

describe.skipIf(unavailable !== undefined)('pulling ahead of the handlers', () => {
  const buses: Bus[] = [];
  const open = async () => {
    const bus = await connect(gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST }), {
      prefix,
    });
    buses.push(bus);
    return bus;
  };
  let first: Bus;
  beforeAll(async () => {
    first = await open();
  });
  afterAll(async () => {
    for (const [topic, subscription] of [
      ['shared', 'workers'],
      ['slow', 'worker'],
    ] as const) {
      await first.deleteSubscription(topic, subscription).catch(() => undefined);
      await first.deleteTopic(topic).catch(() => undefined);
    }
    await Promise.allSettled(buses.map((bus) => bus.close()));
  });

  it('a consumer whose handlers are stuck keeps at most (1 + AHEAD_PER_SLOT) times its concurrency, and hands back what it kept as soon as stop() begins', async () => {
    const total = 300;
    const concurrency = 5;
    // Longer than the test: only a release at the start of stop() lets the other consumer finish.
    const options = { concurrency, shutdownTimeoutMs: 300_000 };
    const stuck = first.consumer<number>('shared', 'workers', options);
    await stuck.ready();
    await first
      .producer<number>('shared')
      .sendBatch(Array.from({ length: total }, (_, n) => ({ body: n })));

    // The first consumer takes messages and never finishes a handler until the test allows it.
    const release = gate();
    const started = new Set<string>();
    const handledByStuck = new Set<string>();
    const stuckFull = waitUntil(() => started.size === concurrency);
    await stuck.start(async (message: Message<number>) => {
      started.add(message.id);
      stuckFull.changed();
      await release.opened;
      handledByStuck.add(message.id);
    });
    await stuckFull.reached;

    // A competing consumer in another "process" drains the rest of the backlog: all but what the
    // stuck one holds in its handlers and keeps ahead for them.
    const held = (1 + AHEAD_PER_SLOT) * concurrency;
    const other = (await open()).consumer<number>('shared', 'workers', { concurrency: 20 });
    const handledByOther = new Set<string>();
    const drained = waitUntil(() => handledByOther.size >= total - held);
    const all = waitUntil(() => handledByOther.size === total - concurrency);
    await other.start(async (message: Message<number>) => {
      if (!started.has(message.id)) handledByOther.add(message.id);
      drained.changed();
      all.changed();
    });
    await drained.reached;

    // stop() hands back what the stuck consumer kept while its handlers still run: the other
    // consumer gets every message but the five in those handlers before any of them finishes.
    const stopping = stuck.stop();
    await all.reached;
    expect(handledByStuck.size).toBe(0);
    release.open();
    await stopping;
    expect(handledByStuck.size).toBe(concurrency);
    expect([...handledByStuck].filter((id) => handledByOther.has(id))).toEqual([]);
    await other.stop();
  }, 120_000);

  it("messages kept ahead of a stuck handler past the subscription's ack deadline stay leased, then arrive once, attempt 1", async () => {
    // A 10 s lease (the subscription's too) and one handler, stuck on the first message: the
    // others wait in the session. Without renewal their lease would end after 10 s. Unordered:
    // the emulator holds back every keyless message behind an outstanding one on an ordered
    // subscription, which would hide a lapsed lease from the other client.
    const count = 4;
    const options = { concurrency: 1, ackDeadlineMs: 10_000, maxAttempts: 5, ordering: false };
    const consumer = first.consumer<number>('slow', 'worker', options);
    await consumer.ready();
    await first
      .producer<number>('slow')
      .sendBatch(Array.from({ length: count }, (_, n) => ({ body: n })));
    const release = gate();
    const deliveries: { id: string; attempt: number; deliveryAttempt: number | undefined }[] = [];
    let startedOnce = false;
    const started = waitUntil(() => startedOnce);
    const done = waitUntil(() => deliveries.length >= count);
    await consumer.start(async (message: Message<number>) => {
      startedOnce = true;
      started.changed();
      await release.opened;
      const native = message.native as PulledMessage;
      deliveries.push({
        id: message.id,
        attempt: message.attempt,
        deliveryAttempt: native.deliveryAttempt ?? undefined,
      });
      done.changed();
    });
    await started.reached;

    // Another client pulls the subscription for 15 s, longer than the ack deadline: a kept
    // message whose lease ran out would come to it.
    const clients = createClients(PROJECT_ID, { apiEndpoint: EMULATOR_HOST }, 10_000, 'test');
    const subscription = `projects/${PROJECT_ID}/subscriptions/${prefix}slow.${prefix}worker`;
    const stolen: string[] = [];
    try {
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const [answer] = await clients.subscriber
          .pull({ subscription, maxMessages: 10 }, { timeout: 2_000, retry: null })
          .catch(() => [{ receivedMessages: [] }]);
        const received = answer.receivedMessages ?? [];
        stolen.push(...received.map((m) => m.message?.messageId ?? ''));
        if (received.length > 0) {
          await clients.subscriber.modifyAckDeadline({
            subscription,
            ackIds: received.map((m) => m.ackId ?? ''),
            ackDeadlineSeconds: 0,
          });
        }
      }
    } finally {
      await clients.close();
    }
    expect(stolen).toEqual([]);

    release.open();
    await done.reached;
    await consumer.stop();
    expect(new Set(deliveries.map((delivery) => delivery.id)).size).toBe(count);
    // The subscription has a dead-letter policy, so the service counts deliveries: a release or a
    // lapsed lease of a kept message would show as a second one.
    for (const delivery of deliveries) {
      expect(delivery).toEqual({ id: delivery.id, attempt: 1, deliveryAttempt: 1 });
    }
  }, 90_000);
});
