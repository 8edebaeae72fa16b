/** The confirmation a destructive command asks on a terminal (@inquirer/confirm, drawn on stderr). */
import type { CommandContext } from './command-context.js';
import { AbortedError, InterruptedError } from './failure.js';

/**
 * Asks `question` (default no); throws AbortedError unless the answer is yes, InterruptedError
 * (exit 130) on Ctrl-C or a closed terminal.
 */
export async function confirmAction(context: CommandContext, question: string): Promise<void> {
  // Loaded only when a prompt is drawn: most runs never ask, and start faster without it.
  const { default: confirm } = await import('@inquirer/confirm');
  let yes: boolean;
  try {
    yes = await confirm(
      { message: context.output.mask(question), default: false },
      {
        input: context.io.stdin,
        output: context.io.stderr as NodeJS.WritableStream,
        signal: context.signal,
      },
    );
  } catch {
    // Ctrl-C (the prompt reads the terminal raw, so it arrives as a key, not as SIGINT), the run's
    // signal, or a closed terminal while asking: nothing was done, and the run was interrupted.
    throw new InterruptedError('nothing done: not confirmed');
  }
  if (!yes) throw new AbortedError('nothing done: not confirmed');
}
