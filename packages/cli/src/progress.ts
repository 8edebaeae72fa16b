/** Progress of a long redrive or purge, drawn on stderr (a terminal) with cli-progress. */
import cliProgress from 'cli-progress';
import type { CommandContext } from './command-context.js';

/** A running progress bar. */
export interface Progress {
  increment(): void;
  stop(): void;
}

/**
 * Starts a bar on stderr for `action`. The total is the DLQ's count (capped by `limit`): an upper
 * bound, since a filter may match fewer; the bar ends where the run does.
 */
export function startProgress(
  context: CommandContext,
  action: string,
  count: number,
  limit: number | undefined,
): Progress {
  const total = Math.max(1, limit === undefined ? count : Math.min(count, limit));
  const bar = new cliProgress.SingleBar(
    {
      stream: context.io.stderr as NodeJS.WritableStream,
      format: `${action} [{bar}] {value}/{total} letters · {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    increment() {
      value += 1;
      if (value > total) bar.setTotal(value);
      bar.update(value);
    },
    stop() {
      bar.stop();
    },
  };
}
