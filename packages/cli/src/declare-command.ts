/** `omnibus declare <topic> <subscription…>`: creates the topic and its subscriptions (with their DLQs) before any producer or consumer runs. */
import type { SubscriptionDeclaration, SubscriptionDeclarations } from '@omnibus/core';
import type { Command } from 'commander';
import type { CommandRunner } from './command-runner.js';
import { parseWholeNumber } from './parse-input.js';

interface DeclareOptions {
  maxAttempts?: string;
  deadLetter?: boolean;
  ordering?: boolean;
}

/** Adds `declare` to the program. */
export function addDeclareCommand(program: Command, runner: CommandRunner): void {
  program
    .command('declare')
    .summary('create a topic and its subscriptions (with their DLQs)')
    .description(
      'Creates the topic and each subscription with its dead-letter queue, if they do not exist yet ' +
        '(bus.declare), so that messages sent from now on are kept for them even before any consumer ' +
        'runs. The settings apply to every subscription named; a subscription that exists with other ' +
        'settings fails with AlreadyExists naming the setting. Running it again is harmless.',
    )
    .argument('<topic>', 'topic name')
    .argument('<subscriptions...>', 'one or more subscription names')
    .option('--max-attempts <n>', 'deliveries before a message is dead-lettered (default 5)')
    .option('--no-dead-letter', 'no DLQ: failed messages are retried forever')
    .option(
      '--ordering',
      'hand messages sharing a key out in send order (default: where the broker can)',
    )
    .option('--no-ordering', 'ignore ordering keys')
    .addHelpText(
      'after',
      '\nExamples:\n  $ omnibus declare orders kitchen audit\n  $ omnibus declare signups mailer --max-attempts 3',
    )
    .action(
      runner.action(async (context, command) => {
        const [topic, subscriptions] = command.processedArgs as [string, string[]];
        const options = command.opts<DeclareOptions>();
        const declaration: SubscriptionDeclaration = {};
        if (options.maxAttempts !== undefined)
          declaration.maxAttempts = parseWholeNumber('--max-attempts', options.maxAttempts);
        if (options.deadLetter === false) declaration.deadLetter = false;
        if (options.ordering !== undefined) declaration.ordering = options.ordering;
        const declarations: SubscriptionDeclarations = {};
        for (const subscription of subscriptions) declarations[subscription] = { ...declaration };
        const bus = await context.bus();
        await bus.declare(topic, declarations);
        const { output } = context;
        if (output.json) output.record({ topic, subscriptions, declared: true });
        else output.line(`declared ${topic}: ${subscriptions.join(', ')}`);
        return;
      }),
    );
}
