/**
 * The `Cancel-After` deadline a non-streamed prediction is created with: Replicate cancels a run still going that
 * long after its creation, so that a run Tollgate stopped waiting for ends even if Tollgate is no longer there to
 * cancel it (a process that died between the create call and its cancellation).
 */

/**
 * Leeway past the moment Tollgate gives up on its own, for a last poll still in flight then; it also keeps the
 * deadline above the 5 seconds Replicate requires at least.
 */
const SPARE_SECONDS = 60;

/**
 * The `Cancel-After` value, in whole seconds, for a provider timeout of `timeoutMs`. Tollgate waits for a
 * non-streamed run at most the create call's `Prefer: wait` (less than the timeout) and then the timeout again while
 * polling, so the deadline is twice the timeout plus a minute: past the point where Tollgate has given up and
 * cancelled the run itself, so that it never cuts short a run Tollgate would still have answered with.
 */
export function runDeadline(timeoutMs: number): string {
  return `${Math.ceil((2 * timeoutMs) / 1000) + SPARE_SECONDS}s`;
}
