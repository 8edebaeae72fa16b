// Locates a broker's executable on PATH and in the sbin folders a non-login PATH may lack.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// Debian installs rabbitmq-server in /usr/sbin, which is not on every user's PATH.
const EXTRA_DIRECTORIES = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of the first executable named `name`, or `undefined` if there is none. */
export function findExecutable(name: string): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRECTORIES];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}
