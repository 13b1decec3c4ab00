/**
 * Waiting for a prediction that `Prefer: wait` did not see finish: poll `urls.get` through `context.send`
 * until the prediction settles, within the provider's timeout and a bounded number of polls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../../spec/errors.js';
import type { ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { DETACHED_SIGNAL } from '../../spec/until-aborted.js';
import { replicateErrorToThrow } from './error.js';
import { isPending, readPrediction } from './prediction.js';
import type { ReplicatePrediction } from './wire-types.js';

/** How polling waits and when it gives up. */
export interface PollingSettings {
  /** Polls before giving up even if the timeout has not passed. */
  maxPolls: number;
  /** Waits before poll number `attempt` (0-based). Injected so tests poll without timers. */
  waitBeforePoll: (attempt: number, signal?: AbortSignal) => Promise<void>;
}

/** Replicate's clients poll about every half second; backing off to 3 s keeps long runs cheap. */
export const defaultPollingSettings: PollingSettings = {
  maxPolls: 200,
  waitBeforePoll: (attempt, signal) => sleep(Math.min(500 * 1.5 ** attempt, 3_000), undefined, signal ? { signal } : undefined),
};

/**
 * Polls until the prediction is no longer starting/processing and returns it. Gives up with a 504 (after asking
 * Replicate to cancel, so the abandoned run stops billing) once the provider's timeout, measured with
 * `context.now`, has passed or `maxPolls` polls were made.
 */
export async function settlePrediction(
  prediction: ReplicatePrediction,
  context: ProviderContext,
  headers: Record<string, string>,
  fallbackGetUrl: string,
  settings: PollingSettings,
): Promise<ReplicatePrediction> {
  const started = context.now();
  let current = prediction;
  for (let attempt = 0; isPending(current); attempt += 1) {
    if (attempt >= settings.maxPolls || context.now() - started >= context.provider.network.timeoutMs) {
      await cancelQuietly(current, context, headers);
      throw new GatewayError({
        status: 504,
        type: 'timeout_error',
        code: 'upstream_timeout',
        message: `Replicate prediction ${current.id} was still ${current.status} after ${attempt} polls.`,
        upstream: true,
      });
    }
    const request: UpstreamRequest = { method: 'GET', url: current.urls?.get ?? fallbackGetUrl.replace('{id}', encodeURIComponent(current.id)), headers };
    let response;
    try {
      await settings.waitBeforePoll(attempt, context.signal);
      response = await context.send(request, context.signal);
    } catch (error) {
      // The client went away: stop the run so it is not billed to the end, without delaying the abort.
      if (context.signal?.aborted) void cancelQuietly(current, context, headers);
      throw error;
    }
    if (response.status < 200 || response.status >= 300) throw replicateErrorToThrow(response);
    current = readPrediction(response);
  }
  return current;
}

/** Best effort: a failed cancel must not hide the timeout that caused it. */
export async function cancelQuietly(prediction: ReplicatePrediction, context: ProviderContext, headers: Record<string, string>): Promise<void> {
  const url = prediction.urls?.cancel;
  if (!url) return;
  try {
    // Detached from the request's signal: after the client left, that signal is aborted, and the cancellation must still go out.
    await context.send({ method: 'POST', url, headers }, DETACHED_SIGNAL);
  } catch {
    // Nothing more can be done; the prediction ends on its own or at Replicate's limit.
  }
}
