/** Starts fauxqs (the fast, lax SQS + SNS emulator) in a child process for one benchmark process. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A running emulator: where to point the AWS SDK, and how to stop it. */
export interface FauxqsProcess {
  /** `http://127.0.0.1:PORT`, for the SDK clients' `endpoint`. */
  readonly endpoint: string;
  stop(): void;
}

const serverFile = fileURLToPath(new URL('./sqs-fauxqs-server.ts', import.meta.url));

/** fauxqs 2.x needs `node:sqlite`, which arrived in Node 22.5. */
export function fauxqsSupported(): true | string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 5)
    ? true
    : `fauxqs needs Node ≥ 22.5, this is ${process.version} (run through npm, which uses the pinned Node)`;
}

let running: Promise<FauxqsProcess> | undefined;

/**
 * The emulator of this process, started on first use and reused by the warm-up and measured runs
 * (every run names its own queues). It is killed when this process exits.
 */
export function fauxqs(): Promise<FauxqsProcess> {
  running ??= new Promise<FauxqsProcess>((resolve, reject) => {
    const child = fork(serverFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.once('exit', stop);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`fauxqs exited before it listened (${signal ?? `code ${code}`})`)),
    );
    child.once('message', (message) => {
      const { port } = message as { port: number };
      // The emulator must not keep this process alive: it goes when this process exits.
      child.unref();
      child.channel?.unref();
      resolve({ endpoint: `http://127.0.0.1:${port}`, stop });
    });
  });
  return running;
}
