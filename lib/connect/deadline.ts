/**
 * Settle-once with a deadline: the one shape every harness CONNECT/TLS step had written by hand
 * (a `settled` flag, a timer to clear on every path, sockets to destroy on failure, an abort signal
 * to unhook). The work calls `resolve`/`reject` as often as its events fire; only the first counts.
 */
export interface Settle<T> {
  readonly settled: boolean;
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Runs once if the promise is rejected (error, timeout or abort): free what the work opened. */
  onFail(fn: () => void): void;
  /** Runs once on either outcome. */
  onSettled(fn: () => void): void;
}

export interface DeadlineOptions<T> {
  timeoutMs: number;
  /** What the deadline does: usually `s.reject(...)` with a message naming the step; a probe may resolve with an outcome. */
  onTimeout: (s: Settle<T>) => void;
  signal?: AbortSignal;
  /** What an abort does; required with `signal`. */
  onAbort?: (s: Settle<T>) => void;
}

export function withDeadline<T>(o: DeadlineOptions<T>, work: (s: Settle<T>) => void): Promise<T> {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    let settled = false;
    const failHooks: Array<() => void> = [];
    const settledHooks: Array<() => void> = [];
    const run = (hooks: Array<() => void>): void => {
      for (const fn of hooks.splice(0)) {
        try {
          fn();
        } catch {
          // cleanup must not mask the outcome
        }
      }
    };
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const s: Settle<T> = {
      get settled() {
        return settled;
      },
      resolve(value) {
        if (settled) return;
        finish();
        run(settledHooks);
        resolvePromise(value);
      },
      reject(error) {
        if (settled) return;
        finish();
        run(failHooks);
        run(settledHooks);
        rejectPromise(error);
      },
      onFail: (fn) => void failHooks.push(fn),
      onSettled: (fn) => void settledHooks.push(fn),
    };
    const onAbort = (): void => (o.onAbort ? o.onAbort(s) : s.reject(new Error('aborted')));
    // unref: the sockets the work opens keep the process alive; the timer alone must not.
    const timer = setTimeout(() => o.onTimeout(s), o.timeoutMs);
    timer.unref?.();
    if (o.signal?.aborted) queueMicrotask(onAbort);
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      work(s);
    } catch (err) {
      s.reject(err);
    }
  });
}
