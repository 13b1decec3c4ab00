import type { CancelSignal } from '../../spec/cancellation.js';

/**
 * Delay before retry number `attempt` (0-based): exponential from `initialMs`, capped at `maxMs`, with jitter
 * drawn from the upper half so that retries of many clients spread out but never come sooner than `initialMs`.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  const floor = Math.min(initialMs, ceiling);
  return Math.round(floor + (ceiling - floor) * (0.5 + random() / 2));
}

/** Waits, unless the signal aborts first (then rejects). */
export function sleep(milliseconds: number, signal?: CancelSignal): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
