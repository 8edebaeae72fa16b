// Bad input exits 2 before any I/O, --help on every command shows an example, and no URL means a clear message.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePorts } from '@omnibus/test-brokers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-support/run-cli.js';

// A port nobody listens on: a command that did any I/O there would fail as unreachable (exit 1,
// after retries), so exit 2 with the input's own message shows it stopped before I/O.
let nowhere: string;
beforeAll(async () => {
  const [port] = await freePorts(1);
  nowhere = `redis://127.0.0.1:${port}/?operationTimeoutMs=1000`;
});

// Each case is its own process: run them side by side.
describe.concurrent('bad input exits 2 before any I/O', () => {
  const cases: [string, string[], RegExp, string?][] = [
    ['a body that is not JSON', ['publish', 'orders', '{oops'], /the body is not JSON.*--raw/],
    [
      'an --attr without =',
      ['publish', 'orders', '1', '--attr', 'source'],
      /--attr "source" is not NAME=VALUE/,
    ],
    [
      'a --delay that is no duration',
      ['publish', 'orders', '1', '--delay', 'soon'],
      /--delay "soon" is not a duration/,
    ],
    [
      '--id with messages on stdin',
      ['publish', 'orders', '--id', 'x1'],
      /--id names one message/,
      '{"body":1}\n',
    ],
    [
      'a topic name breaking the portable rule',
      ['publish', 'o', '1'],
      /topic name "o" .*portable rule/,
    ],
    [
      'an attribute name core reserves',
      ['publish', 'orders', '1', '--attr', 'x-foo=1'],
      /InvalidArgument: .*x-foo/,
    ],
    ['--count 0', ['tail', 'orders', '--count', '0'], /--count "0" must be a whole number ≥ 1/],
    ['doctor --timeout 0', ['doctor', '--timeout', '0'], /--timeout "0" must be more than 0/],
    ['doctor --timeout 0s', ['doctor', '--timeout', '0s'], /--timeout "0s" must be more than 0/],
    [
      'a negative doctor --timeout',
      ['doctor', '--timeout=-1s'],
      /--timeout "-1s" is not a duration/,
    ],
    [
      'a --failed-after that is no time',
      ['dlq', 'list', 'orders', 'kitchen', '--failed-after', 'yesterday'],
      /--failed-after "yesterday" is not a time/,
    ],
    [
      'an empty time window',
      ['dlq', 'list', 'orders', 'kitchen', '--failed-after', '1h', '--failed-before', '2h'],
      /--failed-after must be earlier than --failed-before/,
    ],
    [
      'a --reason regex that does not compile',
      ['dlq', 'list', 'orders', 'kitchen', '--reason', '/(/'],
      /not a valid regular expression/,
    ],
    [
      'a --limit that is no number',
      ['dlq', 'redrive', 'orders', 'kitchen', '--limit', 'ten', '--dry-run'],
      /--limit "ten" must be a whole number/,
    ],
    [
      'a --rate of 0',
      ['dlq', 'purge', 'orders', 'kitchen', '--rate', '0', '--yes'],
      /--rate "0" must be a number > 0/,
    ],
    [
      '--id - with no ids on stdin',
      ['dlq', 'purge', 'orders', 'kitchen', '--id', '-', '--yes'],
      /found no ids on stdin/,
      '\n\n',
    ],
    [
      'ids on stdin that are broken JSON',
      ['dlq', 'redrive', 'orders', 'kitchen', '--id', '-', '--yes'],
      /stdin line 2 starts with "\{" but is not valid JSON/,
      'abc\n{"id":\n',
    ],
    [
      'ids on stdin with a line that is not an id (a table row)',
      ['dlq', 'purge', 'orders', 'kitchen', '--id', '-', '--yes'],
      /stdin line 2 is not a message id: "pay-001 {2}2026-11-30T09:00:00Z" \(an id is 1–128 printable ASCII characters without spaces\)/,
      'pay-000\npay-001  2026-11-30T09:00:00Z\n',
    ],
    [
      'an NDJSON record whose id is not one',
      ['dlq', 'redrive', 'orders', 'kitchen', '--id', '-', '--dry-run'],
      /the "id" of stdin line 1 is not a message id/,
      '{"id":"two words"}\n',
    ],
    [
      'an --id that is not one',
      ['dlq', 'show', 'orders', 'kitchen', '--id', 'pay 1'],
      /--id is not a message id: "pay 1"/,
    ],
    [
      'an ordering key where the broker cannot order',
      ['publish', 'orders', '1', '--key', 'customer-42'],
      /Unsupported: .*"ordering" capability/,
    ],
    [
      'a dlq subcommand missing an argument',
      ['dlq', 'list', 'orders'],
      /missing required argument 'subscription'[\s\S]*add --help/,
    ],
    [
      'a delete without --yes and no terminal',
      ['delete', 'orders', 'omnibus-tail-0a1b2c3d'],
      /refusing to delete subscription omnibus-tail-0a1b2c3d of orders without --yes/,
    ],
    [
      'a purge without --yes and no terminal',
      ['dlq', 'purge', 'orders', 'kitchen'],
      /refusing to purge without --yes: there is no terminal.*--dry-run/,
    ],
    [
      'a redrive without --yes and no terminal',
      ['dlq', 'redrive', 'orders', 'kitchen', '--reason', 'x'],
      /refusing to redrive without --yes/,
    ],
    [
      '--max-attempts of 0',
      ['declare', 'orders', 'kitchen', '--max-attempts', '0'],
      /--max-attempts "0" must be a whole number ≥ 1/,
    ],
    [
      'a --prefix breaking the rule',
      ['stats', 'orders', 'kitchen', '--prefix', '9x'],
      /prefix "9x"/,
    ],
    ['an unknown option', ['stats', 'orders', 'kitchen', '--colour'], /unknown option '--colour'/],
    ['a missing argument', ['stats', 'orders'], /missing required argument 'subscription'/],
  ];
  it.each(cases)('%s', async (_what, args, message, input) => {
    const result = await runCli(['--url', nowhere, ...args], input === undefined ? {} : { input });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/Unavailable|Timeout|ECONNREFUSED/);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });

  it('dlq without a subcommand: its help on stderr, nothing on stdout', async () => {
    const result = await runCli(['dlq']);
    expect(result.stderr).toMatch(/^Usage: omnibus dlq \[options\] \[command\]/);
    expect(result.stderr).toMatch(/redrive/);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });

  it('from a clone: npm run -s omnibus -- … at the root runs the built CLI', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const manifest = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // As a user runs it: without the CI's per-pass Node guard (NODE_OPTIONS=--import …), which
    // rightly refuses the pinned Node 24 that `npm run` picks in the Node 22 pass.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.OMNIBUS_EXPECT_NODE_MAJOR;
    const { stdout } = await promisify(execFile)(npm, ['run', '-s', 'omnibus', '--', '--version'], {
      cwd: root,
      env,
    });
    expect(stdout).toBe(`${manifest.version}\n`);
  });

  it('no broker URL: says how to give one', async () => {
    const result = await runCli(['stats', 'orders', 'kitchen']);
    expect(result.stderr).toMatch(/no broker: give --url .* or set OMNIBUS_URL/);
    expect(result.code).toBe(2);
  });

  it('a URL for a scheme no adapter serves', async () => {
    const result = await runCli(['stats', 'orders', 'kitchen'], {
      env: { OMNIBUS_URL: 'kafka://broker:9092' },
    });
    expect(result.stderr).toMatch(/no Omnibus adapter serves "kafka:" URLs/);
    expect(result.code).toBe(2);
  });
});

describe.concurrent('--help', () => {
  const commands = [
    [],
    ['stats'],
    ['publish'],
    ['tail'],
    ['declare'],
    ['delete'],
    ['doctor'],
    ['dlq'],
    ['dlq', 'list'],
    ['dlq', 'show'],
    ['dlq', 'count'],
    ['dlq', 'redrive'],
    ['dlq', 'purge'],
  ];
  it.each(commands.map((command) => [command.join(' ') || '(the program)', command]))(
    '%s has usage and an example, exit 0',
    async (_name, command) => {
      const result = await runCli([...(command as string[]), '--help']);
      expect(result.stdout).toMatch(/^Usage: omnibus/);
      expect(result.stdout).toMatch(/Examples?:\n[\s\S]*\$ omnibus /);
      // Every command's help lists the options every command takes.
      if ((command as string[]).length > 0)
        expect(result.stdout).toMatch(/Global Options:[\s\S]*--url <url>[\s\S]*--json/);
      expect(result.code).toBe(0);
    },
  );
});
