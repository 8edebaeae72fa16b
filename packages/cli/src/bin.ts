#!/usr/bin/env node
/** The `omnibus` executable: runs the program on the process's argv and streams, and exits with its code. */
import type { RunState } from './command-runner.js';
import { EXIT, STOP_REASON } from './failure.js';
import { run } from './program.js';

const controller = new AbortController();
const state: RunState = { exitCode: EXIT.ok, handlesInterrupt: false };

// First Ctrl-C: a command that stops cleanly (tail, redrive, purge) finishes what it holds, removes
// what it created and exits; any other command exits at once (it has nothing half-done to undo).
// A second Ctrl-C always exits at once.
const interrupt = () => {
  if (controller.signal.aborted || !state.handlesInterrupt) process.exit(EXIT.interrupted);
  controller.abort(STOP_REASON.interrupted);
  process.stderr.write('stopping (Ctrl-C again to quit at once)\n');
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);
// `omnibus tail | head -1`: the reader went away; stop as on Ctrl-C, not with an EPIPE stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  if (!state.handlesInterrupt) process.exit(EXIT.ok);
  if (!controller.signal.aborted) controller.abort(STOP_REASON.outputClosed);
});

const code = await run(
  process.argv.slice(2),
  {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    environment: process.env,
  },
  controller.signal,
  state,
);
// Exit once stdout and stderr are flushed, not when the event loop empties: a broker client may
// keep a reconnect timer or a socket alive for a while after close, and the run is over.
const flush = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => {
    if (stream.destroyed) resolve();
    else stream.write('', () => resolve());
  });
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
