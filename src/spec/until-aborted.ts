/**
 * Waits for a promise unless the signal aborts first. Lets one caller stop waiting for work that other callers
 * share (a token refresh) without cancelling that work: the promise itself runs on.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A signal that never aborts, given to a send in place of the caller's own for work that must not stop when that
 * caller gives up: a token refresh other callers wait for, or the cancellation of a run the caller walked away from.
 * The send's timeout still bounds it.
 */
export const DETACHED_SIGNAL: AbortSignal = new AbortController().signal;
