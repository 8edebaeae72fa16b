// A broker URL's password never appears in anything the CLI prints, and doctor explains what failed.
import { freePorts } from '@omnibus/test-brokers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AMQP_URL,
  brokerUnavailable,
  type CliResult,
  REDIS_URL,
  runCli,
} from './test-support/run-cli.js';

const PASSWORD = 'Pa55-w0rd-never-shown';

function expectNoSecret(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
  }
}

describe('credentials never printed; failures explained', () => {
  let closedPort: number;
  let amqpUnavailable: string | undefined;
  let redisUnavailable: string | undefined;
  beforeAll(async () => {
    [closedPort = 1] = await freePorts(1);
    amqpUnavailable = await brokerUnavailable(AMQP_URL);
    redisUnavailable = await brokerUnavailable(REDIS_URL);
  });

  it('doctor with a wrong password: auth, exit 1, the password nowhere (human and --json)', async (context) => {
    if (amqpUnavailable !== undefined) return context.skip(amqpUnavailable);
    const url = new URL(AMQP_URL);
    url.password = PASSWORD;
    const human = await runCli(['doctor', '--url', url.href]);
    expect(human.stdout).toMatch(/✗ declare/);
    expect(human.stdout).toMatch(/Unauthenticated: /);
    expect(human.stdout).toMatch(/→ auth: the broker refused the credentials/);
    expect(human.stdout).toMatch(/broker +amqp:\/\/guest:\*\*\*@/);
    expect(human.code).toBe(1);
    expectNoSecret(human);

    const json = await runCli(['doctor', '--json'], { env: { OMNIBUS_URL: url.href } });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      steps: expect.arrayContaining([
        expect.objectContaining({ step: 'declare', ok: false, code: 'Unauthenticated' }),
      ]),
    });
    expect(json.code).toBe(1);
    expectNoSecret(json);
  });

  it('doctor on a closed port: unreachable', async () => {
    const result = await runCli([
      'doctor',
      '--url',
      `amqp://ops:${PASSWORD}@127.0.0.1:${closedPort}/?operationTimeoutMs=1000`,
    ]);
    expect(result.stdout).toMatch(/Unavailable: /);
    expect(result.stdout).toMatch(/→ unreachable: /);
    expect(result.code).toBe(1);
    expectNoSecret(result);
  });

  it("doctor on another broker's port: wrong protocol", async (context) => {
    if (amqpUnavailable !== undefined) return context.skip(amqpUnavailable);
    const amqpPort = new URL(AMQP_URL).port;
    const result = await runCli([
      'doctor',
      '--url',
      `redis://:${PASSWORD}@127.0.0.1:${amqpPort}/?operationTimeoutMs=2000`,
    ]);
    expect(result.stdout).toMatch(/→ wrong protocol: /);
    expect(result.code).toBe(1);
    expectNoSecret(result);
  });

  it('a URL inside a query parameter: its password masked, the rest readable', async () => {
    const endpoint = `http://ops:${PASSWORD}@127.0.0.1:${closedPort}`;
    const plain = await runCli(
      ['doctor', '--url', `sqs://us-east-1?endpoint=${endpoint}&operationTimeoutMs=1000`],
      { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    expect(plain.stdout).toMatch(
      new RegExp(
        `^broker +sqs://us-east-1\\?endpoint=http://ops:\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}&operationTimeoutMs=1000$`,
        'm',
      ),
    );
    expect(plain.code).toBe(1);
    expectNoSecret(plain);

    // Percent-encoded, as a careful user writes a URL inside a URL: masked all the same.
    const encoded = await runCli(
      [
        'stats',
        'orders',
        'kitchen',
        '--url',
        `sqs://us-east-1?endpoint=${encodeURIComponent(endpoint)}&operationTimeoutMs=1000`,
      ],
      { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    expect(encoded.code).toBe(1);
    expectNoSecret(encoded);
  });

  it('a command failing on an unreachable broker, and one given a malformed URL', async (context) => {
    if (redisUnavailable !== undefined) return context.skip(redisUnavailable);
    const unreachable = await runCli([
      'stats',
      'orders',
      'kitchen',
      '--url',
      `redis://admin:${PASSWORD}@127.0.0.1:${closedPort}/?operationTimeoutMs=1000`,
    ]);
    expect(unreachable.stderr).toMatch(/^error: (Unavailable|Timeout): /);
    expect(unreachable.code).toBe(1);
    expectNoSecret(unreachable);

    // One slash: WHATWG parsing would take the password for a path; core refuses it, masked.
    const malformed = await runCli(['stats', 'orders', 'kitchen'], {
      env: { OMNIBUS_URL: `redis:/:${PASSWORD}@127.0.0.1:6379` },
    });
    expect(malformed.stderr).toMatch(/error: Config: broker URL "redis:\/\*\*\*@127.0.0.1:6379"/);
    expect(malformed.code).toBe(2);
    expectNoSecret(malformed);
  });
});
