// SQS (on moto): doctor's round trip, and the dead-letter commands on a broker whose DLQ reads are receives (count-bumping: warned first).
import { type Bus, connect } from '@omnibus/core';
import { waitUntil } from '@omnibus/test-brokers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerUnavailable, records, runCli, uniquePrefix } from './test-support/run-cli.js';

const ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const URL_ = `sqs://us-east-1?endpoint=${ENDPOINT}`;
// moto takes any credentials; the AWS SDK insists on some.
const AWS = {
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
};

describe('sqs (moto)', () => {
  const prefix = uniquePrefix('sq');
  const cli = (args: string[]) =>
    runCli(['--url', URL_, '--prefix', prefix, ...args], { env: AWS });
  let unavailable: string | undefined;
  let bus: Bus | undefined;

  beforeAll(async () => {
    unavailable = await brokerUnavailable(ENDPOINT);
    if (unavailable !== undefined) return;
    Object.assign(process.env, AWS);
    bus = await connect(URL_, { prefix });
    await bus.declare('payments', { ledger: {} });
    await bus
      .producer('payments')
      .sendBatch(Array.from({ length: 10 }, (_, n) => ({ body: { n }, id: `pay-${n}` })));
    const consumer = bus.consumer<{ n: number }>('payments', 'ledger');
    await consumer.start((message) =>
      message.deadLetter(message.body.n % 2 === 0 ? 'reason A' : 'reason B'),
    );
    const dlq = bus.deadLetters('payments', 'ledger');
    await waitUntil(async () => (await dlq.count()) >= 10, '10 dead letters', 60_000, 250);
    await consumer.stop();
  });
  afterAll(async () => {
    if (bus === undefined) return;
    await bus.deleteSubscription('payments', 'ledger');
    await bus.deleteTopic('payments');
    await bus.close();
  });

  it('doctor round-trips and cleans up', async (context) => {
    if (unavailable !== undefined) return context.skip(unavailable);
    const result = await cli(['doctor']);
    expect(result.stdout).toMatch(/dlq peek +count-bumping/);
    expect(result.stdout).toMatch(/stats +waiting approximate/);
    expect(result.stdout).toMatch(/✓ clean up/);
    expect(result.code).toBe(0);
  });

  it("stats marks the broker's estimates as such", async (context) => {
    if (unavailable !== undefined) return context.skip(unavailable);
    const json = await cli(['stats', 'payments', 'ledger', '--json']);
    expect(records(json.stdout)[0]).toMatchObject({
      approximate: ['waiting', 'inFlight', 'deadLettered'],
      unknown: [],
    });
    const human = await cli(['stats', 'payments', 'ledger']);
    expect(human.stdout.split('\n')[1]).toMatch(/^payments +ledger +~\d+ +~\d+ +~\d+$/);
    expect(human.stderr).toMatch(/~ marks the broker's estimates/);
  });

  it('dlq list and redrive warn first that reading the DLQ counts as a receive', async (context) => {
    if (unavailable !== undefined) return context.skip(unavailable);
    const listed = await cli([
      'dlq',
      'list',
      'payments',
      'ledger',
      '--reason',
      'reason a',
      '--json',
    ]);
    expect(listed.stderr).toMatch(/^warning: sqs can read a DLQ only by receiving from it/);
    expect(
      records(listed.stdout)
        .map((letter) => letter.id)
        .sort(),
    ).toEqual(['pay-0', 'pay-2', 'pay-4', 'pay-6', 'pay-8']);

    const redriven = await cli([
      'dlq',
      'redrive',
      'payments',
      'ledger',
      '--reason',
      'reason a',
      '--yes',
    ]);
    expect(redriven.stderr).toMatch(/^warning: sqs can read a DLQ only by receiving/);
    expect(redriven.stderr).toMatch(/redriven 5, refused 0, failed 0/);
    expect(redriven.code).toBe(0);
  });
});
