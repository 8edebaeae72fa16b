import type { Bus, ConsumerOptions, SendOptions } from '@omnibus/core';
import { PORTABLE_RULES } from '@omnibus/core';
import { describe, expect } from 'vitest';
import {
  consumerOptions,
  expectOmnibusError,
  type Inbox,
  type Suite,
  type TestKit,
} from './helpers.js';

const KIB = 1024;

/** A topic with a running consumer, to prove that rejected sends reached nothing. */
async function watchedTopic(
  t: TestKit,
): Promise<{ topic: string; inbox: Inbox; expectNothingSent(): Promise<void> }> {
  const topic = t.name('topic');
  const consumer = t.bus.consumer(topic, t.name('sub'), consumerOptions());
  await consumer.ready();
  const inbox = t.inbox();
  await t.consume(consumer, inbox);
  return {
    topic,
    inbox,
    // A sentinel sent after the rejected calls: once it is in, anything they sent would be too.
    async expectNothingSent() {
      const sentinel = await t.bus.producer(topic).send('sentinel');
      await inbox.waitForIds([sentinel]);
      expect(inbox.ids(), 'a rejected send reached the subscription').toEqual([sentinel]);
    },
  };
}

function sendWith(
  bus: Bus,
  topic: string,
  options: SendOptions,
  body: unknown = { ok: true },
): () => Promise<string> {
  return () => bus.producer(topic).send(body, options);
}

/** The portable rule set: checked before any I/O, the same on every adapter. */
export function registerValidationTests(suite: Suite): void {
  describe('validation', () => {
    suite.test('rejects bad topic and subscription names with InvalidArgument', async (t) => {
      const badNames = [
        '',
        'ab',
        'has space',
        'bad/slash',
        'dotted.name',
        '9starts-with-digit',
        '-dash-first',
        'x'.repeat(65),
        'googReserved',
        'ünïcödé',
      ];
      for (const name of badNames) {
        await expectOmnibusError(
          () => t.bus.producer(name).send('x'),
          ['InvalidArgument'],
          `send to topic ${JSON.stringify(name)}`,
        );
        await expectOmnibusError(
          () => t.bus.consumer(t.name('topic'), name, consumerOptions()).ready(),
          ['InvalidArgument'],
          `subscription ${JSON.stringify(name)}`,
        );
        await expectOmnibusError(
          () => t.bus.deadLetters(t.name('topic'), name).count(),
          ['InvalidArgument'],
          `deadLetters of subscription ${JSON.stringify(name)}`,
        );
      }
    });

    suite.test('rejects more than 8 attributes, and sends nothing', async (t) => {
      const watched = await watchedTopic(t);
      const nine = Object.fromEntries(
        Array.from({ length: 9 }, (_, index) => [`attr${index}`, 'v']),
      );
      await expectOmnibusError(
        sendWith(t.bus, watched.topic, { attributes: nine }),
        ['InvalidArgument'],
        '9 attributes',
      );
      await watched.expectNothingSent();
    });

    suite.test('rejects bad attribute names and values, and sends nothing', async (t) => {
      const watched = await watchedTopic(t);
      const cases: [string, Record<string, unknown>][] = [
        ['an empty name', { '': 'v' }],
        ['a name with a space', { 'has space': 'v' }],
        ['a name starting with "."', { '.hidden': 'v' }],
        ['a name with ".."', { 'a..b': 'v' }],
        ['a name longer than 128 characters', { ['n'.repeat(129)]: 'v' }],
        ['the reserved prefix "x-"', { 'x-custom': 'v' }],
        ['the reserved prefix "omnibus"', { 'omnibus-id': 'v' }],
        ['the reserved prefix "goog"', { googThing: 'v' }],
        ['the reserved prefix "aws."', { 'AWS.trace': 'v' }],
        ['an empty value', { key: '' }],
        ['a value over 1024 bytes', { key: 'é'.repeat(513) }],
        ['a number value', { key: 42 }],
        ['a control character in a value', { key: 'bell\u0007' }],
      ];
      for (const [what, attributes] of cases) {
        await expectOmnibusError(
          sendWith(t.bus, watched.topic, { attributes: attributes as Record<string, string> }),
          ['InvalidArgument'],
          `attributes with ${what}`,
        );
      }
      await watched.expectNothingSent();
    });

    suite.test(
      'rejects a message over capabilities.maxMessageBytes with MessageTooLarge, and sends nothing',
      async (t) => {
        const watched = await watchedTopic(t);
        const producer = t.bus.producer<unknown>(watched.topic);
        // 256 KiB is the portable floor; an adapter may declare more, never less.
        const limit = t.bus.capabilities.maxMessageBytes;
        expect(limit).toBeGreaterThanOrEqual(256 * KIB);
        await expectOmnibusError(
          () => producer.send(new Uint8Array(limit + 1)),
          ['MessageTooLarge'],
          'a binary body one byte over the limit',
        );
        await expectOmnibusError(
          () => producer.send('x'.repeat(limit + 44 * KIB)),
          ['MessageTooLarge'],
          'a JSON body over the limit',
        );
        // Attributes count towards the limit: a body just under it plus attributes goes over.
        const attributes = Object.fromEntries(
          Array.from({ length: 8 }, (_, index) => [`attr${index}`, 'v'.repeat(1000)]),
        );
        await expectOmnibusError(
          () => producer.send(new Uint8Array(limit - 4 * KIB), { attributes }),
          ['MessageTooLarge'],
          'a body under the limit with 8 KB of attributes',
        );
        await expectOmnibusError(
          () => producer.sendBatch([{ body: 'small' }, { body: new Uint8Array(limit + 1) }]),
          ['MessageTooLarge'],
          'a batch with one oversize entry',
        );
        await watched.expectNothingSent();
      },
    );

    suite.test('rejects a body the codec cannot encode, and sends nothing', async (t) => {
      const watched = await watchedTopic(t);
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      const bodies: [string, unknown][] = [
        ['a cyclic object', cyclic],
        ['a BigInt', { amount: 10n }],
        ['undefined', undefined],
        ['a function', () => 1],
        ['a symbol', Symbol('s')],
      ];
      for (const [what, body] of bodies) {
        await expectOmnibusError(
          () => t.bus.producer<unknown>(watched.topic).send(body),
          ['InvalidArgument'],
          `a body that is ${what}`,
        );
      }
      await watched.expectNothingSent();
    });

    suite.test('rejects a batch with one bad entry, and sends none of it', async (t) => {
      const watched = await watchedTopic(t);
      await expectOmnibusError(
        () =>
          t.bus
            .producer<unknown>(watched.topic)
            .sendBatch([
              { body: 'fine' },
              { body: 'fine too', attributes: { ok: 'yes' } },
              { body: 'bad', attributes: { 'x-reserved': 'no' } },
            ]),
        ['InvalidArgument'],
        'a batch whose third entry has a reserved attribute',
      );
      await watched.expectNothingSent();
    });

    suite.test('rejects bad ids, ordering keys and delays, and sends nothing', async (t) => {
      const watched = await watchedTopic(t);
      const { ordering, delayedDelivery } = t.capabilities;
      const cases: [string, SendOptions, readonly ('InvalidArgument' | 'Unsupported')[]][] = [
        ['an id with a space', { id: 'has space' }, ['InvalidArgument']],
        ['an empty id', { id: '' }, ['InvalidArgument']],
        ['an id over 128 characters', { id: 'i'.repeat(129) }, ['InvalidArgument']],
        ['a non-ASCII id', { id: 'ïd' }, ['InvalidArgument']],
        // Without the capability, Unsupported is as right as InvalidArgument.
        [
          'an ordering key with a space',
          { orderingKey: 'has space' },
          ordering ? ['InvalidArgument'] : ['InvalidArgument', 'Unsupported'],
        ],
        [
          'an ordering key over 128 characters',
          { orderingKey: 'k'.repeat(129) },
          ordering ? ['InvalidArgument'] : ['InvalidArgument', 'Unsupported'],
        ],
        [
          'a negative delay',
          { delayMs: -1 },
          delayedDelivery === false ? ['InvalidArgument', 'Unsupported'] : ['InvalidArgument'],
        ],
        [
          'a fractional delay',
          { delayMs: 1.5 },
          delayedDelivery === false ? ['InvalidArgument', 'Unsupported'] : ['InvalidArgument'],
        ],
        [
          'a delay above the portable 15 minutes (SQS DelaySeconds ≤ 900)',
          { delayMs: PORTABLE_RULES.maxSendDelayMs + 1 },
          delayedDelivery === false ? ['InvalidArgument', 'Unsupported'] : ['InvalidArgument'],
        ],
      ];
      for (const [what, options, codes] of cases) {
        await expectOmnibusError(
          sendWith(t.bus, watched.topic, options),
          codes,
          `send with ${what}`,
        );
      }
      await watched.expectNothingSent();
    });

    suite.test('rejects bad consumer options with InvalidArgument', async (t) => {
      const topic = t.name('topic');
      const { maxMs } = t.capabilities.ackDeadline;
      const portable = PORTABLE_RULES;
      // Every adapter rejects what any of the five brokers would: memory is never more lenient.
      const cases: [string, ConsumerOptions][] = [
        ['concurrency 0', { concurrency: 0 }],
        ['fractional concurrency', { concurrency: 1.5 }],
        ['concurrency above the portable bound', { concurrency: portable.maxConcurrency + 1 }],
        ['maxAttempts 0', { maxAttempts: 0 }],
        ['maxAttempts above the portable bound', { maxAttempts: portable.maxAttempts + 1 }],
        ['ackDeadlineMs above capabilities.ackDeadline.maxMs', { ackDeadlineMs: maxMs + 1 }],
        ['ackDeadlineMs 500 (below Pub/Sub’s 10 s)', { ackDeadlineMs: 500 }],
        ['ackDeadlineMs one hour (above Pub/Sub’s 600 s)', { ackDeadlineMs: 3_600_000 }],
        [
          'retry.maxDelayMs above the portable nack delay',
          { retry: { maxDelayMs: portable.maxNackDelayMs + 1 } },
        ],
        [
          'retry.maxDelayMs below retry.initialDelayMs',
          { retry: { initialDelayMs: 100, maxDelayMs: 10 } },
        ],
        ['a negative shutdownTimeoutMs', { shutdownTimeoutMs: -1 }],
        ['a schema that is not a Standard Schema', { schema: {} as ConsumerOptions['schema'] }],
      ];
      for (const [what, options] of cases) {
        await expectOmnibusError(
          () => t.bus.consumer(topic, t.name('sub'), options).ready(),
          ['InvalidArgument'],
          `a consumer with ${what}`,
        );
      }
    });
  });
}
