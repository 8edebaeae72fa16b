/** The runner every command's action goes through: builds its context, turns what it throws into a message and an exit code, closes the bus. */
import type { Command } from 'commander';
import { CommandContext, type CommandIO, type GlobalOptions } from './command-context.js';
import { EXIT, exitCodeOf, messageOf } from './failure.js';

/** A command's body: resolves with its exit code (undefined: 0). */
export type CommandHandler = (
  context: CommandContext,
  command: Command,
) => Promise<number | undefined>;

/** State shared between the runner and the signal handlers of the process. */
export interface RunState {
  /** The exit code of the run. */
  exitCode: number;
  /** Set by a command that stops cleanly on {@link CommandContext.signal} (tail, redrive, purge). */
  handlesInterrupt: boolean;
}

/** Wraps command handlers into commander actions. */
export class CommandRunner {
  readonly #io: CommandIO;
  readonly #signal: AbortSignal;
  readonly #state: RunState;

  constructor(io: CommandIO, signal: AbortSignal, state: RunState) {
    this.#io = io;
    this.#signal = signal;
    this.#state = state;
  }

  /** Marks the running command as one that stops cleanly on Ctrl-C. */
  handleInterrupt(): void {
    this.#state.handlesInterrupt = true;
  }

  /** A commander action running `handler`. */
  action(handler: CommandHandler): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = command.optsWithGlobals<GlobalOptions>();
      const context = new CommandContext(options, this.#io, this.#signal);
      try {
        this.#state.exitCode = (await handler(context, command)) ?? EXIT.ok;
      } catch (error) {
        context.output.error(messageOf(error));
        this.#state.exitCode = exitCodeOf(error);
      } finally {
        await context.close();
      }
    };
  }
}
