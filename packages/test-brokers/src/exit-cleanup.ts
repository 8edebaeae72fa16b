// Kills what this process started if it exits without stopping it (a crashed test worker).
import { rmSync } from 'node:fs';

const pids = new Set<number>();
const directories = new Set<string>();
let hooked = false;

function cleanUp(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: SIGKILL and rmSync are.
  process.once('exit', cleanUp);
}

/** Kills `pid` when this process exits, unless {@link forgetPid} was called first. */
export function killOnExit(pid: number): void {
  hook();
  pids.add(pid);
}

/** The process `pid` was stopped on purpose: exiting must not signal it (the pid may be reused). */
export function forgetPid(pid: number): void {
  pids.delete(pid);
}

/** Removes `directory` when this process exits, unless {@link forgetDirectory} was called first. */
export function removeOnExit(directory: string): void {
  hook();
  directories.add(directory);
}

/** `directory` was removed on purpose. */
export function forgetDirectory(directory: string): void {
  directories.delete(directory);
}
