// publish reading stdin: a line too long to be a message is reported, not held in memory; run as the built binary against the shared Redis.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brokerSession } from './test-support/broker-session.js';
import { REDIS_URL, uniquePrefix } from './test-support/run-cli.js';

const MB = 1024 * 1024;

/** The peak resident memory of a running process, from Linux's /proc (VmHWM). */
function peakResidentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kilobytes === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kilobytes) * 1024;
}

describe('publish (redis)', () => {
  const session = brokerSession(REDIS_URL, uniquePrefix('pb'), { created: { huge: ['reader'] } });

  it('a 200 MB line is MessageTooLarge without being held in memory; the next line is sent', async (context) => {
    session.requireBroker(context);
    if (!existsSync('/proc/self/status')) return context.skip('no /proc to measure memory with');
    await session.bus.declare('huge', { reader: {} });
    const run = session.start(['publish', 'huge', '--raw'], { keepStdinOpen: true });
    const stdin = run.child.stdin;
    if (stdin === null) throw new Error('no stdin');
    const chunk = Buffer.alloc(MB, 'a');
    const write = (bytes: Buffer) =>
      new Promise<void>((resolve, reject) =>
        stdin.write(bytes, (error) => (error ? reject(error) : resolve())),
      );
    for (let written = 0; written < 200; written += 1) await write(chunk);
    // All but the pipe's buffer of the line has been read: a reader holding it holds ~200 MB now.
    const peak = peakResidentBytes(run.child.pid ?? 0);
    await write(Buffer.from('\nsmall line\n'));
    stdin.end();
    const result = await run.done;
    // A reader holding the line holds all 200 MB of it; one that doesn't peaks far lower, how far
    // depends on when the GC frees the chunks it read (~100 MB on a quiet machine, 169 MB once under load).
    expect(peak).toBeLessThan(200 * MB);
    expect(result.stderr).toMatch(
      /line 1: MessageTooLarge: the line is 209715200 bytes, more than the broker's maxMessageBytes \d+/,
    );
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.code).toBe(1);
    expect(await session.bus.consumer('huge', 'reader').stats()).toMatchObject({ waiting: 1 });
  });
});
