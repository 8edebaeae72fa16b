import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { connect, type Message } from '@omnibus/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deque } from './deque.js';
import { memory } from './index.js';

const run = promisify(execFile);

afterEach(() => {
  vi.useRealTimers();
});

describe('Deque', () => {
  it('keeps FIFO order across growth and wrap-around, with pushes at both ends', () => {
    const deque = new Deque<number>(2);
    const model: number[] = [];
    for (let round = 0; round < 1_000; round++) {
      if (round % 3 === 0) {
        deque.unshift(round);
        model.unshift(round);
      } else {
        deque.push(round);
        model.push(round);
      }
      if (round % 5 === 0) expect(deque.shift()).toBe(model.shift());
    }
    expect([...deque]).toEqual(model);
    expect(deque.length).toBe(model.length);
  });
});

describe('memory broker', () => {
  it('refuses what another adapter would refuse in a URL: a bad operationTimeoutMs, an unknown or misspelt parameter', async () => {
    for (const url of [
      'memory://?operationTimeoutMs=abc',
      'memory://?operationTimeoutMS=2000',
      'memory://shared?colour=blue',
    ]) {
      await expect(connect(url), url).rejects.toMatchObject({ code: 'Config' });
    }
    const bus = await connect('memory://?operationTimeoutMs=2000');
    await bus.close();
  });

  it('console.log and JSON.stringify of a bus, producer, consumer, DLQ or message never show the client', async () => {
    // A client whose options hold a password, as ioredis' do: `bus.native` is it.
    const driver = { ...memory(), native: { options: { password: 'hunter2-in-client' } } };
    const bus = await connect(driver);
    const producer = bus.producer<string>('orders');
    const consumer = bus.consumer<string>('orders', 'kitchen');
    await consumer.ready();
    await producer.send('soup');
    const iterator = consumer.messages();
    const message = (await iterator.next()).value!;
    const dlq = bus.deadLetters('orders', 'kitchen');
    for (const [what, value] of Object.entries({ bus, producer, consumer, dlq, message })) {
      for (const shown of [
        inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        JSON.stringify(value),
      ]) {
        expect(shown, what).not.toContain('hunter2');
      }
    }
    expect(inspect(bus)).toBe("Bus { adapter: 'memory' }");
    expect(JSON.parse(JSON.stringify(message))).toMatchObject({ body: 'soup', attempt: 1 });
    await message.ack();
    await iterator.return?.();
    await bus.close();
  });

  it('a script awaiting stop() with a message still held is not cut short by the process exiting', async () => {
    // Nothing but stop()'s own shutdown timer keeps such a process alive on memory://.
    const script = `
      import { connect } from '@omnibus/core';
      const bus = await connect('memory://');
      const consumer = bus.consumer('orders', 'kitchen', { shutdownTimeoutMs: 300 });
      await consumer.ready();
      await bus.producer('orders').send('soup');
      const held = (await consumer.messages().next()).value;
      await consumer.stop();
      console.log('stopped, holding', held.body);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 20_000,
    });
    expect(stdout).toContain('stopped, holding soup');
  });

  it('isolates every memory:// and shares memory://NAME', async () => {
    const a = await connect('memory://');
    const b = await connect('memory://');
    const shared1 = await connect('memory://shared-test');
    const shared2 = await connect('memory://shared-test');
    for (const bus of [a, b, shared1, shared2]) await bus.consumer('orders', 'kitchen').ready();
    await a.producer('orders').send({ n: 1 });
    await shared1.producer('orders').send({ n: 2 });
    expect((await b.consumer('orders', 'kitchen').stats()).waiting).toBe(0);
    expect((await a.consumer('orders', 'kitchen').stats()).waiting).toBe(1);
    expect((await shared2.consumer('orders', 'kitchen').stats()).waiting).toBe(1);
    await Promise.all([a, b, shared1, shared2].map((bus) => bus.close()));
  });

  it('works under fake timers: delays, backoff and settled() follow the fake clock', async () => {
    vi.useFakeTimers();
    const bus = await connect(memory());
    const handled: { body: unknown; attempt: number; at: number }[] = [];
    const consumer = bus.consumer<{ n: number }>('orders', 'kitchen', {
      maxAttempts: 3,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await consumer.start((message) => {
      handled.push({ body: message.body, attempt: message.attempt, at: Date.now() });
      if (message.body.n === 2) throw new Error('burnt');
    });
    const start = Date.now();
    await bus.producer('orders').send({ n: 1 }, { delayMs: 10 * 60_000 });
    await bus.producer('orders').send({ n: 2 });
    await bus.settled();
    expect(handled.map((entry) => entry.attempt)).toEqual([1]);

    await vi.advanceTimersByTimeAsync(60_000);
    await bus.settled();
    expect(
      handled
        .filter((entry) => (entry.body as { n: number }).n === 2)
        .map((entry) => entry.attempt),
    ).toEqual([1, 2]);

    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await bus.settled();
    const delayed = handled.find((entry) => (entry.body as { n: number }).n === 1);
    expect(delayed?.at).toBeGreaterThanOrEqual(start + 10 * 60_000);
    expect(await bus.deadLetters('orders', 'kitchen').count()).toBe(1);
    await bus.close();
  });

  it('redelivers a message whose lease expired, counting the attempt, under fake timers', async () => {
    vi.useFakeTimers();
    const bus = await connect(memory());
    const consumer = bus.consumer('orders', 'kitchen', { ackDeadlineMs: 10_000 });
    await consumer.ready();
    await bus.producer('orders').send('soup');
    // Reach around core (which renews leases) to take a message the way a crashed consumer would.
    const driver = (bus as unknown as { driver: ReturnType<typeof memory> }).driver;
    const spec = {
      topic: 'orders',
      subscription: 'kitchen',
      maxAttempts: 5,
      deadLetter: true,
      ackDeadlineMs: 10_000,
      ordering: true,
    };
    const crashed = await driver.subscribe(spec, { maxOutstanding: 1 });
    const [taken] = await crashed.receive({ maxMessages: 1, signal: new AbortController().signal });
    expect(taken?.attempt).toBe(1);
    expect((await consumer.stats()).inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect((await consumer.stats()).waiting).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await consumer.stats()).toEqual({
      waiting: 1,
      inFlight: 0,
      deadLettered: 0,
      approximate: [],
    });
    const again = await crashed.receive({ maxMessages: 1, signal: new AbortController().signal });
    expect(again[0]?.attempt).toBe(2);
    // The stale handle of the first delivery no longer settles anything.
    await crashed.ack([taken?.handle]);
    expect((await consumer.stats()).inFlight).toBe(1);
    await bus.close();
  });

  it('closing a driver releases what its sessions held, for immediate redelivery', async () => {
    const crashing = memory({ name: 'release-on-close' });
    const survivor = await connect('memory://release-on-close');
    await survivor.consumer('orders', 'kitchen').ready();
    await survivor.producer('orders').send('pie');
    const spec = {
      topic: 'orders',
      subscription: 'kitchen',
      maxAttempts: 5,
      deadLetter: true,
      ackDeadlineMs: 60_000,
      ordering: true,
    };
    const session = await crashing.subscribe(spec, { maxOutstanding: 1 });
    const [taken] = await session.receive({ maxMessages: 1, signal: new AbortController().signal });
    expect(taken?.attempt).toBe(1);
    await crashing.close();
    const [again] = await collect(survivor.consumer('orders', 'kitchen').messages(), 1);
    expect(again?.attempt).toBe(2);
    expect(await again?.ack()).toBe('acked');
    await survivor.close();
  });

  it('stop() releases a pulled message still unsettled after shutdownTimeoutMs', async () => {
    const bus = await connect('memory://pull-release');
    const consumer = bus.consumer('orders', 'kitchen', { shutdownTimeoutMs: 0, onError: () => {} });
    await consumer.ready();
    await bus.producer('orders').send('stew');
    const iterator = consumer.messages();
    const first = (await iterator.next()).value as Message;
    await consumer.stop();
    expect(first.outcome).toBe('nacked');
    expect(await first.ack()).toBe('nacked');
    const [again] = await collect(bus.consumer('orders', 'kitchen').messages(), 1);
    expect(again?.attempt).toBe(2);
    expect(again?.id).toBe(first.id);
    await again?.ack();
    await bus.close();
  });
});

async function collect(
  iterator: AsyncIterableIterator<Message>,
  count: number,
): Promise<Message[]> {
  const messages: Message[] = [];
  for await (const message of iterator) {
    messages.push(message);
    if (messages.length === count) break;
  }
  return messages;
}
