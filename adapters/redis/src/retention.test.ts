/** Retention never deletes what a subscription may still need, across restarts of a private non-persistent Redis. */

import { randomBytes } from 'node:crypto';
import { type Bus, connect } from '@omnibus/core';
import {
  type PrivateRedis,
  privateBrokerUnavailable,
  startPrivateRedis,
} from '@omnibus/test-brokers';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redis, subscriptionKeys, topicKeys } from './index.js';
import { trimStream } from './scripts/trim-stream.js';
import { waitFor } from './test-support/harness.js';

const unavailable = privateBrokerUnavailable('redis');
const server: PrivateRedis | undefined =
  unavailable === undefined ? await startPrivateRedis() : undefined;

const suite = server === undefined ? describe.skip : describe;

suite('a non-persistent Redis restarted mid-stream (private server)', () => {
  const buses: Bus[] = [];
  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await server?.stop();
  });

  async function open(prefix: string): Promise<Bus> {
    // Trimming often makes the retention pass meet the emptied server before consumers recover.
    const bus = await connect(redis({ url: server!.url, trimIntervalMs: 20, pollIntervalMs: 50 }), {
      prefix,
    });
    buses.push(bus);
    return bus;
  }

  it('loses none of the sends that resolved after the restart, on any subscription', async () => {
    const prefix = `r${randomBytes(4).toString('hex')}-`;
    const producerBus = await open(prefix);
    const subscriptions = ['audit', 'billing'];
    const handled = new Map<string, Set<number>>();
    // Handlers are held busy across the restart, so no consumer can notice the lost group (and
    // recreate it) before the producer's retention pass has met the emptied server.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    let held = 0;
    for (const name of subscriptions) {
      const seen = new Set<number>();
      handled.set(name, seen);
      // Each subscription on a bus of its own, as separate services would run it.
      const consumer = (await open(prefix)).consumer<number>('events', name, {
        concurrency: 20,
        onError: () => undefined,
      });
      await consumer.ready();
      await consumer.start(async (message) => {
        if (holding && (handled.get('audit')?.size ?? 0) >= 100) {
          held++;
          await gate;
        }
        seen.add(message.body);
      });
    }
    const producer = producerBus.producer<number>('events');
    let restarted = false;
    let stopping = false;
    const afterRestart: number[] = [];
    let sent = 0;
    const sending = (async () => {
      for (let seq = 0; !stopping; seq++) {
        try {
          await producer.send(seq);
        } catch {
          continue; // Rejected: not acknowledged, so not counted.
        }
        sent++;
        if (restarted) afterRestart.push(seq);
      }
    })();
    await waitFor(
      () => held >= 40,
      'both consumers busy with traffic from before the restart',
      20_000,
    );
    await server!.restart();
    restarted = true;
    // A producer process that starts after the restart meets a server that has no trace of the
    // topic: to it the topic looks new, yet its subscriptions' consumers are still coming back.
    const lateProducer = (await open(prefix)).producer<number>('events');
    for (let seq = 1_000_000; seq < 1_000_200; seq++) {
      await lateProducer.send(seq);
      afterRestart.push(seq);
    }
    await waitFor(() => afterRestart.length >= 600, 'sends after the restart', 20_000);
    holding = false;
    release();
    stopping = true;
    await sending;
    const lost = () =>
      subscriptions.map((name) => afterRestart.filter((seq) => !handled.get(name)!.has(seq)));
    await waitFor(
      () => lost().every((missing) => missing.length === 0),
      'every send to arrive',
      15_000,
    ).catch(() => undefined);
    const missing = lost();
    expect(
      missing.map((seqs) => seqs.length),
      `lost of ${afterRestart.length} sent after the restart (${sent} in all)`,
    ).toEqual([0, 0]);
  });

  it('a registered subscription whose group is missing keeps every entry until it is back', async () => {
    const prefix = `g${randomBytes(4).toString('hex')}-`;
    const bus = await open(prefix);
    const admin = new Redis(server!.url);
    try {
      const fast = bus.consumer<number>('events', 'fast', { onError: () => undefined });
      const late = bus.consumer<number>('events', 'late', { onError: () => undefined });
      await Promise.all([fast.ready(), late.ready()]);
      const keys = subscriptionKeys('omnibus:', `${prefix}events`, `${prefix}late`);
      // What a lost group looks like to everyone else: the registry lists it, the stream doesn't.
      await admin.xgroup('DESTROY', keys.stream, `${prefix}late`);
      // A registry old enough to be trusted (see TRIM): only the missing group holds trimming back.
      await admin.hset(keys.subscriptions, '~complete', '1');
      let fastHandled = 0;
      await fast.start(() => void fastHandled++);
      await bus
        .producer<number>('events')
        .sendBatch(Array.from({ length: 50 }, (_, n) => ({ body: n })));
      await waitFor(() => fastHandled === 50, 'the fast subscription to handle everything', 20_000);
      expect(await trimStream(admin, keys, { staleConsumerMs: 3_600_000, kind: 'topic' })).toBe(0);
      expect(await admin.xlen(keys.stream)).toBe(50);
      const lateSeen = new Set<number>();
      await late.start((message) => void lateSeen.add(message.body));
      await waitFor(() => lateSeen.size === 50, 'the late subscription to get all 50 back', 20_000);
    } finally {
      admin.disconnect();
    }
  });

  it('after the server lost its data, nothing is trimmed until the subscriptions had time to come back', async () => {
    const prefix = `u${randomBytes(4).toString('hex')}-`;
    const bus = await open(prefix);
    const admin = new Redis(server!.url);
    try {
      await bus.consumer('events', 'kitchen').ready();
      const keys = topicKeys('omnibus:', `${prefix}events`);
      // A server that restarted empty, then got a producer's writes: no group, no registry.
      await admin.del(keys.stream, keys.subscriptions);
      for (let n = 0; n < 5; n++) await admin.xadd(keys.stream, '*', 'body', String(n));
      expect(await trimStream(admin, keys, { staleConsumerMs: 3_600_000, kind: 'topic' })).toBe(0);
      expect(await admin.xlen(keys.stream)).toBe(5);
      expect(await admin.hexists(keys.subscriptions, '~lost-at')).toBe(1);
      // Once the grace is over the registry counts as complete: with no subscription left, it empties.
      expect(await trimStream(admin, keys, { staleConsumerMs: 3_600_000, kind: 'topic' })).toBe(0);
      await admin.hset(keys.subscriptions, '~lost-at', '1');
      expect(await trimStream(admin, keys, { staleConsumerMs: 3_600_000, kind: 'topic' })).toBe(5);
    } finally {
      admin.disconnect();
    }
  });
});
