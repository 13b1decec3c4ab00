/**
 * A prediction whose client left while the call creating it was still in flight. Replicate creates the prediction as
 * soon as it accepts the call, and aborting the call does not stop it: only the reply names the prediction, so the
 * call is left to finish (within the provider's timeout) and the prediction it names is then cancelled, unless it
 * has already ended. The client is answered at once, as for any other request it left.
 */
import { GatewayError } from '../../spec/errors.js';
import type { ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { DETACHED_SIGNAL, untilAborted } from '../../spec/until-aborted.js';
import { cancelQuietly } from './polling.js';
import { readPrediction } from './prediction.js';
import type { ReplicatePrediction } from './wire-types.js';

/** The statuses after which a prediction no longer runs, so that there is nothing left to cancel. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/**
 * The prediction a create call's reply names that still has to be stopped; undefined for an error reply, a body that
 * is not a prediction, or a prediction that has already ended.
 */
export function predictionToCancel(response: UpstreamResponse): ReplicatePrediction | undefined {
  if (response.status < 200 || response.status >= 300) return undefined;
  let prediction: ReplicatePrediction;
  try {
    prediction = readPrediction(response);
  } catch {
    return undefined;
  }
  return TERMINAL_STATUSES.has(prediction.status) ? undefined : prediction;
}

/**
 * Cancels the prediction named by the reply to a create call whose client left, unless it has already ended. Never
 * throws: no one waits for the outcome.
 */
export async function cancelAbandoned(response: UpstreamResponse, context: ProviderContext, headers: Record<string, string>): Promise<void> {
  const prediction = predictionToCancel(response);
  if (prediction !== undefined) await cancelQuietly(prediction, context, headers);
}

/**
 * Sends a create call the adapter makes itself (a streamed prediction's) detached from the client's signal, and
 * waits for it while the client stays: a client that leaves gets a 499 at once, and the prediction the reply names
 * is cancelled once that reply arrives.
 */
export async function sendCreation(context: ProviderContext, request: UpstreamRequest, headers: Record<string, string>): Promise<UpstreamResponse> {
  const signal = context.signal;
  // Nothing is created for a client already gone.
  if (signal?.aborted) throw clientClosed();
  const sent = context.send(request, DETACHED_SIGNAL);
  if (signal === undefined) return sent;
  try {
    return await untilAborted(sent, signal);
  } catch (error) {
    if (!signal.aborted) throw error;
    sent.then((late) => cancelAbandoned(late, context, headers)).catch(() => undefined);
    throw clientClosed();
  }
}

/** What the core answers a client that left while its upstream request was in flight. */
function clientClosed(): GatewayError {
  return new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed_request', message: 'The request was cancelled' });
}
