// The messages between the soak and a consumer it runs in a child process.

/** What the child needs to consume: passed as its one argument, in JSON. */
export interface ChildConsumerConfig {
  readonly url: string;
  readonly topic: string;
  readonly subscription: string;
  readonly failureRate: number;
  readonly workMs: number;
  readonly consumerOptions: {
    readonly concurrency: number;
    readonly maxAttempts: number;
    readonly ackDeadlineMs: number;
    readonly shutdownTimeoutMs: number;
    readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  };
}

/** Child → parent. `handled` is sent, and its write awaited, before the handler resolves. */
export type ChildReport =
  | { readonly type: 'ready' }
  | { readonly type: 'handled'; readonly seq: number; readonly at: number }
  | { readonly type: 'failed' }
  | { readonly type: 'error'; readonly message: string };

/** Parent → child. */
export type ChildCommand = { readonly type: 'stop' };
