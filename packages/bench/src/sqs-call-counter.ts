/** Counts the AWS API calls SDK clients make, per operation, with an SDK middleware: the bench's "calls per 1,000 messages". */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** What the middleware sees of a command's output: enough to count deleted messages. */
interface CountedOutput {
  readonly Successful?: readonly unknown[];
}

type Next = (args: { input: object }) => Promise<{ output: unknown }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;

/**
 * API calls of every client it is attached to. Each HTTP request counts, retries included (the
 * middleware sits in the `finalizeRequest` step after the SDK's retry middleware, so inside its
 * loop, and above deserialization, so it sees the parsed output), failed ones too.
 * It also counts messages confirmed deleted (`DeleteMessage`, and each `Successful` entry of
 * `DeleteMessageBatch`): that is the end of a message's trip for every side of the bench, so all
 * sides stop their clock on the same event.
 */
export class CallCounter {
  /** Calls per operation name (`SendMessageBatch`, `ReceiveMessage`, …) since the last reset. */
  readonly calls = new Map<string, number>();
  /** Messages confirmed deleted since the last reset. */
  deleted = 0;
  #target = Number.POSITIVE_INFINITY;
  #reached: () => void = () => {};

  /** Adds the counting middleware to `client` (an SQS or SNS client), once per client. */
  attach(client: SQSClient | SNSClient): void {
    const middleware: Middleware = (next, context) => async (args) => {
      const name = context.commandName?.replace(/Command$/, '') ?? 'unknown';
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
      const result = await next(args);
      if (name === 'DeleteMessage') this.#addDeleted(1);
      else if (name === 'DeleteMessageBatch') {
        this.#addDeleted((result.output as CountedOutput).Successful?.length ?? 0);
      }
      return result;
    };
    // The SDK's middleware types are per service; this one only reads the command name and the
    // output, which every service shares.
    (client.middlewareStack as SQSClient['middlewareStack']).add(middleware as never, {
      step: 'finalizeRequest',
      priority: 'low',
      name: 'omnibusBenchCallCounter',
      override: true,
    });
  }

  /** Forgets the counts: call it when the timed section starts. */
  reset(): void {
    this.calls.clear();
    this.deleted = 0;
  }

  /** Resolves once `count` messages were confirmed deleted since the last reset. */
  deletedReach(count: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.deleted >= count) return resolve();
      this.#target = count;
      this.#reached = resolve;
    });
  }

  /** All calls since the last reset. */
  total(): number {
    let total = 0;
    for (const count of this.calls.values()) total += count;
    return total;
  }

  /** A snapshot for the report: operation → calls, sorted by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.calls].sort(([a], [b]) => a.localeCompare(b)));
  }

  #addDeleted(count: number): void {
    this.deleted += count;
    if (this.deleted >= this.#target) {
      this.#target = Number.POSITIVE_INFINITY;
      this.#reached();
    }
  }
}
