// tail on a named subscription: nothing acked that the reader did not get, no subscription made by a typo, and its exit codes; run as the built binary against the shared Redis.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitUntil } from '@omnibus/test-brokers';
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { BIN, REDIS_URL, records, uniquePrefix, waitForStderr } from './test-support/run-cli.js';

describe('tail (redis)', () => {
  const session = brokerSession(REDIS_URL, uniquePrefix('tl'), {
    created: { piped: ['reader'], typos: ['real', 'reel'], stops: ['reader'] },
  });
  const { cli } = session;

  it('a reader that closes the pipe after one line loses nothing: what was not written is released, not acked, using no attempt; exit 0', async (context) => {
    session.requireBroker(context);
    expect((await cli(['declare', 'piped', 'reader'])).code).toBe(0);
    const tail = session.start(['tail', 'piped', 'reader', '--json']);
    await waitForStderr(tail, /tailing piped/, 'tail ready');
    expect((await cli(['publish', 'piped', '"p1"', '--id', 'p1'])).code).toBe(0);
    await waitUntil(() => tail.stdout().includes('\n'), 'the first line printed', 20_000, 20);
    // `| head -1`: the reader takes one line and closes its end of the pipe.
    tail.child.stdout?.destroy();
    const lines = ['{"body":"p2","id":"p2"}', '{"body":"p3","id":"p3"}'].join('\n');
    expect((await cli(['publish', 'piped'], `${lines}\n`)).code).toBe(0);
    const result = await tail.done;
    expect(records(result.stdout).map((message) => message.id)).toEqual(['p1']);
    expect(result.code).toBe(0);

    const stats = await cli(['stats', 'piped', 'reader', '--json']);
    expect(records(stats.stdout)[0]).toMatchObject({ waiting: 2, deadLettered: 0 });
    const rest = await cli(['tail', 'piped', 'reader', '--count', '2', '--json']);
    expect(records(rest.stdout).map((message) => [message.id, message.attempt])).toEqual([
      ['p2', 1],
      ['p3', 1],
    ]);
    expect(rest.code).toBe(0);
  });

  it('tail on a subscription that does not exist fails NotFound, exit 1, and creates nothing', async (context) => {
    session.requireBroker(context);
    expect((await cli(['declare', 'typos', 'real'])).code).toBe(0);
    const result = await cli(['tail', 'typos', 'reel', '--count', '1']);
    expect(result.stderr).toMatch(/error: NotFound: subscription .*reel.* does not exist/);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
    // Nothing was created: the real subscription's messages are not copied to a new one.
    const stats = await cli(['stats', 'typos', 'reel']);
    expect(stats.stderr).toMatch(/NotFound/);
    expect(stats.code).toBe(1);
    expect(await session.bus.deleteSubscription('typos', 'reel')).toBe(false);
  });

  it('tail stopped by SIGTERM exits 130; stopped by --count, 0', async (context) => {
    session.requireBroker(context);
    expect((await cli(['declare', 'stops', 'reader'])).code).toBe(0);
    const tail = session.start(['tail', 'stops', 'reader']);
    await waitForStderr(tail, /tailing stops/, 'tail ready');
    tail.child.kill('SIGTERM');
    const result = await tail.done;
    expect(result.stderr).toMatch(/stopped after 0 message/);
    expect(result.code).toBe(130);

    expect((await cli(['publish', 'stops', '"one"'])).code).toBe(0);
    const counted = await cli(['tail', 'stops', 'reader', '--count', '1']);
    expect(counted.stdout).toMatch(/"one"/);
    expect(counted.code).toBe(0);
  });

  // A prompt needs a terminal: script(1) gives the CLI one, and Ctrl-C reaches it as a key.
  const script = '/usr/bin/script';
  it('Ctrl-C at a confirmation prompt exits 130, nothing done', async (context) => {
    session.requireBroker(context);
    if (!existsSync(script)) return context.skip(`no ${script} to give the CLI a terminal`);
    expect((await cli(['declare', 'stops', 'reader'])).code).toBe(0);
    const environment: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete environment.OMNIBUS_URL;
    delete environment.FORCE_COLOR;
    const command = [process.execPath, BIN, ...session.global, 'delete', 'stops', 'reader'].join(
      ' ',
    );
    const child = spawn(script, ['-qec', command, '/dev/null'], { env: environment });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
    });
    const code = new Promise<number | null>((resolve) => child.once('close', resolve));
    await waitUntil(
      () => screen.includes('Delete subscription') || child.exitCode !== null,
      'the prompt drawn',
      20_000,
      20,
    );
    child.stdin.write('\u0003');
    expect(await code).toBe(130);
    child.stdin.end();
    expect(screen).toMatch(/nothing done: not confirmed/);
    // Not deleted: stats still finds it.
    expect((await cli(['stats', 'stops', 'reader'])).code).toBe(0);
  });
});
