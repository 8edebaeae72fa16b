// One promise raced against a timer: how core and adapters bound a single call by operationTimeoutMs.

/**
 * Settles like `work`, unless `ms` pass first: then it rejects with `onTimeout()`'s error (which may
 * also abandon the work, e.g. close its channel) and ignores `work`'s late outcome. `work` itself is
 * not cancelled: JavaScript promises can't be.
 */
export function withTimeLimit<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        reject(onTimeout());
      },
      Math.max(0, ms),
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        if (!timedOut) resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      },
    );
  });
}
