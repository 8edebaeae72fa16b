/** `omnibus delete <topic> [subscription]`: deletes a subscription (with its DLQ), or a topic; asks first. */
import type { Command } from 'commander';
import type { CommandRunner } from './command-runner.js';
import { confirmAction } from './confirm-action.js';
import { EXIT, UsageError } from './failure.js';

interface DeleteOptions {
  yes?: boolean;
}

/** Adds `delete` to the program. */
export function addDeleteCommand(program: Command, runner: CommandRunner): void {
  program
    .command('delete')
    .summary('delete a subscription (with its DLQ and what they hold), or a topic')
    .description(
      'With a subscription: deletes it, with its dead-letter queue, and the messages and dead letters ' +
        'they hold (bus.deleteSubscription). With a topic alone: deletes the topic (bus.deleteTopic); ' +
        'its subscriptions are not deleted: delete them first (Redis refuses while any exists; other ' +
        'brokers leave them detached, keeping what they hold). Asks first on a terminal; elsewhere it ' +
        'needs --yes. Exit code 1 when there was nothing of that name to delete. Use it for what a ' +
        'killed tail left behind (omnibus-tail-…: tail names it on stderr when it starts).',
    )
    .argument('<topic>', 'topic name')
    .argument('[subscription]', 'subscription name: delete it, not the topic')
    .option('--yes', 'do it without asking (scripts)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus delete orders omnibus-tail-3f9a0c1e --yes\n  $ omnibus delete orders kitchen\n  $ omnibus delete orders --yes',
    )
    .action(
      runner.action(async (context, command) => {
        const [topic, subscription] = command.processedArgs as [string, string | undefined];
        const options = command.opts<DeleteOptions>();
        const what =
          subscription === undefined
            ? `topic ${topic}`
            : `subscription ${subscription} of ${topic}`;
        if (options.yes !== true && !context.canPrompt())
          throw new UsageError(
            `refusing to delete ${what} without --yes: there is no terminal to confirm on`,
          );
        const bus = await context.bus();
        if (options.yes !== true)
          await confirmAction(
            context,
            subscription === undefined
              ? `Delete topic ${topic}? (its subscriptions stay: delete them first)`
              : `Delete subscription ${subscription} of ${topic}, with its dead-letter queue and every message and dead letter they hold?`,
          );
        const deleted =
          subscription === undefined
            ? await bus.deleteTopic(topic)
            : await bus.deleteSubscription(topic, subscription);
        const { output } = context;
        if (output.json) output.record({ topic, subscription: subscription ?? null, deleted });
        if (!deleted) {
          output.error(`no ${what}: nothing deleted`);
          return EXIT.failed;
        }
        if (!output.json) output.line(`deleted ${what}`);
        return EXIT.ok;
      }),
    );
}
