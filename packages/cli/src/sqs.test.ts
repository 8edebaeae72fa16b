// SQS (on moto): doctor's round trip, and the dead-letter commands on a broker whose DLQ reads are receives (count-bumping: warned first).
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { deadLetterByParity } from './test-support/dead-letter-by-parity.js';
import {
  AMQP_URL,
  brokerUnavailable,
  REDIS_URL,
  records,
  runCli,
  uniquePrefix,
} from './test-support/run-cli.js';

const ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const URL_ = `sqs://us-east-1?endpoint=${ENDPOINT}`;
// moto takes any credentials; the AWS SDK insists on some.
const AWS = {
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
};

describe('sqs (moto)', () => {
  const session = brokerSession(URL_, uniquePrefix('sq'), {
    reachableAt: ENDPOINT,
    env: AWS,
    created: { payments: ['ledger'] },
    async setUp(bus) {
      await bus.declare('payments', { ledger: {} });
      await bus
        .producer('payments')
        .sendBatch(Array.from({ length: 10 }, (_, n) => ({ body: { n }, id: `pay-${n}` })));
      await deadLetterByParity(bus, 'payments', 'ledger', ['reason A', 'reason B'], 10);
    },
  });
  const { cli } = session;

  it('doctor round-trips and cleans up', async (context) => {
    session.requireBroker(context);
    const result = await cli(['doctor']);
    expect(result.stdout).toMatch(/dlq peek +count-bumping/);
    expect(result.stdout).toMatch(/stats +waiting approximate/);
    expect(result.stdout).toMatch(/✓ clean up/);
    expect(result.code).toBe(0);
  });

  it("stats marks the broker's estimates as such", async (context) => {
    session.requireBroker(context);
    const json = await cli(['stats', 'payments', 'ledger', '--json']);
    expect(records(json.stdout)[0]).toMatchObject({
      approximate: ['waiting', 'inFlight', 'deadLettered'],
      unknown: [],
    });
    const human = await cli(['stats', 'payments', 'ledger']);
    expect(human.stdout.split('\n')[1]).toMatch(/^payments +ledger +~\d+ +~\d+ +~\d+$/);
    expect(human.stderr).toMatch(/~ marks the broker's estimates/);
  });

  it('declare, then delete a subscription (with its DLQ) and a topic', async (context) => {
    session.requireBroker(context);
    expect((await cli(['declare', 'scratch', 'reader'])).code).toBe(0);
    const subscription = await cli(['delete', 'scratch', 'reader', '--yes']);
    expect(subscription.stdout).toBe('deleted subscription reader of scratch\n');
    expect(subscription.code).toBe(0);
    const topic = await cli(['delete', 'scratch', '--yes', '--json']);
    expect(records(topic.stdout)).toEqual([
      { topic: 'scratch', subscription: null, deleted: true },
    ]);
    expect(topic.code).toBe(0);
    const again = await cli(['delete', 'scratch', '--yes']);
    expect(again.stderr).toMatch(/^error: no topic scratch: nothing deleted$/m);
    expect(again.code).toBe(1);
  });

  it('dlq list and redrive warn first that reading the DLQ counts as a receive', async (context) => {
    session.requireBroker(context);
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

// An endpoint where another broker listens: a reply that is not HTTP is certain (Config, exit 2,
// no retries); a server that hangs up without a word is not (a proxy may do that to a real
// endpoint), so it stays Unavailable after the retries, with a message naming the likely cause.
describe('sqs: an endpoint that is not SQS', () => {
  const statsAt = (port: string) =>
    runCli(
      [
        'stats',
        'orders',
        'kitchen',
        '--url',
        `sqs://us-east-1?endpoint=http://127.0.0.1:${port}&operationTimeoutMs=2000`,
      ],
      { env: AWS },
    );

  it('the RabbitMQ port (answers in AMQP): Config, not an SQS endpoint', async (context) => {
    const unavailable = await brokerUnavailable(AMQP_URL);
    if (unavailable !== undefined) return context.skip(unavailable);
    const result = await statsAt(new URL(AMQP_URL).port);
    expect(result.stderr).toMatch(
      /^error: Config: .*not an SQS endpoint: .* does not answer in HTTP/,
    );
    expect(result.code).toBe(2);
  });

  it('the Redis port (hangs up on an HTTP request): Unavailable, naming a wrong endpoint as the likely cause', async (context) => {
    const unavailable = await brokerUnavailable(REDIS_URL);
    if (unavailable !== undefined) return context.skip(unavailable);
    const result = await statsAt(new URL(REDIS_URL).port);
    expect(result.stderr).toMatch(
      /^error: Unavailable: .*closed the connection without an answer \(socket hang up\): if this persists, the endpoint may not be SQS\/SNS/,
    );
    expect(result.stderr).not.toMatch(/Timeout|Internal/);
    expect(result.code).toBe(1);

    const doctor = await runCli(
      [
        'doctor',
        '--url',
        `sqs://us-east-1?endpoint=http://127.0.0.1:${new URL(REDIS_URL).port}&operationTimeoutMs=2000`,
      ],
      { env: AWS },
    );
    expect(doctor.stdout).toMatch(/→ hung up: .*another protocol/);
    expect(doctor.code).toBe(1);
  });
});
