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
 * A signal that never aborts, for work shared by several callers (a token refresh): given to the send of the caller
 * that starts it in place of that caller's own signal, so that this caller giving up does not cancel it for the others.
 */
export const SHARED_WORK_SIGNAL: AbortSignal = new AbortController().signal;
