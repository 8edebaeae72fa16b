/** `omnibus stats <topic> <subscription>`: waiting, in flight and dead-lettered, with what the broker can't tell shown as such. */
import type { Command } from 'commander';
import type { CommandRunner } from './command-runner.js';

const COUNTS = [
  ['waiting', 'WAITING'],
  ['inFlight', 'IN FLIGHT'],
  ['deadLettered', 'DEAD-LETTERED'],
] as const;

/** Adds `stats` to the program. */
export function addStatsCommand(program: Command, runner: CommandRunner): void {
  program
    .command('stats')
    .summary('counts of one subscription: waiting, in flight, dead-lettered')
    .description(
      'Prints how many messages of a subscription are waiting, in flight (delivered, not settled) and ' +
        'dead-lettered. A number the broker cannot tell is shown as "unknown" (null in --json, named in ' +
        '"unknown"), never guessed; one the broker only estimates is shown as ~N (named in "approximate").',
    )
    .argument('<topic>', 'topic name')
    .argument('<subscription>', 'subscription name')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus stats orders kitchen --url redis://localhost:6379\n  $ omnibus stats orders kitchen --json\n    {"topic":"orders","subscription":"kitchen","waiting":3,"inFlight":0,"deadLettered":1,"unknown":[],"approximate":[]}',
    )
    .action(
      runner.action(async (context, command) => {
        const [topic, subscription] = command.processedArgs as [string, string];
        const bus = await context.bus();
        const stats = await bus.consumer(topic, subscription).stats();
        const unknown = COUNTS.filter(([key]) => stats[key] === undefined).map(([key]) => key);
        const { output } = context;
        if (output.json) {
          output.record({
            topic,
            subscription,
            waiting: stats.waiting ?? null,
            inFlight: stats.inFlight ?? null,
            deadLettered: stats.deadLettered ?? null,
            unknown,
            approximate: stats.approximate,
          });
          return;
        }
        output.table(
          ['TOPIC', 'SUBSCRIPTION', ...COUNTS.map(([, title]) => title)],
          [
            [
              topic,
              subscription,
              ...COUNTS.map(([key]) => {
                const value = stats[key];
                if (value === undefined) return output.color.dim('unknown');
                // The broker's estimate (SQS's Approximate… attributes), never shown as exact.
                return stats.approximate.includes(key) ? `~${value}` : String(value);
              }),
            ],
          ],
        );
        if (stats.approximate.length > 0)
          output.note(`~ marks the broker's estimates: ${stats.approximate.join(', ')}`);
        if (unknown.length > 0)
          output.note(
            `${bus.adapter} cannot tell: ${unknown.join(', ')} (see its capabilities: omnibus doctor)`,
          );
        return;
      }),
    );
}
