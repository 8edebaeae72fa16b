/** Test support: every way an error can be shown, so a test can check none of them shows a secret. */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';

/**
 * What a user could see of an error: its message, stack, `String(error)`, `JSON.stringify`,
 * `util.inspect` at full depth, `console.error` output, and every string reachable from it through
 * own properties (enumerable or not, symbol-keyed too), `cause` and `errors` included.
 */
export function exposures(error: unknown): Record<string, string> {
  const record = error as { message?: unknown; stack?: unknown };
  return {
    message: String(record?.message),
    stack: String(record?.stack),
    string: String(error),
    json: JSON.stringify(error) ?? '',
    inspect: inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    console: consoleError(error),
    reachable: reachableStrings(error).join('\n'),
  };
}

/** Asserts the secret appears in no exposure; on failure names the exposure and shows it. */
export function expectNowhere(error: unknown, secrets: readonly string[]): void {
  for (const [where, text] of Object.entries(exposures(error))) {
    for (const secret of secrets) {
      if (text.includes(secret)) {
        throw new Error(`secret ${JSON.stringify(secret)} shows in the error's ${where}:\n${text}`);
      }
    }
  }
}

function consoleError(value: unknown): string {
  let output = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += String(chunk);
      done();
    },
  });
  new Console({ stdout: sink, stderr: sink }).error(value);
  return output;
}

function reachableStrings(root: unknown): string[] {
  const strings: string[] = [];
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor !== undefined && 'value' in descriptor) visit(descriptor.value);
    }
  };
  visit(root);
  return strings;
}
