import { TimeoutError } from './errors.js';

/**
 * Races `work` against a deadline and an optional parent signal. On timeout (or parent abort)
 * the signal passed to `work` is aborted so the work can stop, and the returned promise rejects
 * at once even if `work` never settles.
 */
export async function withTimeout<T>(
  what: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  if (parent?.aborted === true) {
    throw parent.reason instanceof Error ? parent.reason : new Error(`${what} aborted`);
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onParentAbort = (): void => undefined;
  const deadline = new Promise<never>((_, reject) => {
    const stop = (reason: unknown): void => {
      controller.abort(reason);
      reject(reason instanceof Error ? reason : new Error(`${what} aborted`));
    };
    onParentAbort = () => stop(parent?.reason);
    parent?.addEventListener('abort', onParentAbort, { once: true });
    timer = setTimeout(() => stop(new TimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    // Called inside a promise chain so that a synchronous throw becomes a rejection.
    const running = Promise.resolve().then(() => work(controller.signal));
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
    // The loser of the race must not surface as an unhandled rejection.
    deadline.catch(() => undefined);
  }
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Resolves true when `work` settles first, false at the deadline; the timer is cleared either
 * way so a finished wait never keeps the process alive.
 */
export async function settlesWithin(work: Promise<unknown>, deadlineMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), deadlineMs);
  });
  try {
    return await Promise.race([
      work.then(
        () => true as const,
        () => true as const,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
