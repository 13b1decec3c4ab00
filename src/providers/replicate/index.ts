/**
 * The Replicate adapter: chat completions as predictions of language models. Non-streamed requests create the
 * prediction with `Prefer: wait` and poll if it is still running; streamed requests create it (with
 * `stream: true`) inside `buildRequest` and hand the core the `urls.stream` event stream; the decoder reads the
 * created prediction's token counts after the stream's `done`. A client that leaves while a create call is in flight
 * does not tear that call down (the prediction exists as soon as Replicate accepts it): its reply is awaited and the
 * prediction it names cancelled (`abandoned-creation.ts`).
 */
import { errors } from '../../spec/errors.js';
import type { AdapterFactory, ProviderAdapter, ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { cancelAbandoned, sendCreation } from './abandoned-creation.js';
import { toReplicateInput } from './chat-input.js';
import { parseReplicateError, replicateErrorToThrow } from './error.js';
import { cancelQuietly, defaultPollingSettings, settlePrediction, type PollingSettings } from './polling.js';
import { predictionFailure, predictionToChatResult, readPrediction } from './prediction.js';
import { resolvePredictionTarget } from './prediction-target.js';
import { runDeadline } from './run-deadline.js';
import { createReplicateStreamDecoder } from './stream-decoder.js';
import type { CreatePredictionBody, ReplicatePrediction } from './wire-types.js';

/** Replicate's API origin, used when the provider has no `base_url`. */
export const REPLICATE_DEFAULT_BASE_URL = 'https://api.replicate.com';

/** Replicate holds a `Prefer: wait` request at most 60 seconds. */
const MAX_SYNC_WAIT_SECONDS = 60;

const KNOWN_MODELS = [
  'meta/meta-llama-3-70b-instruct',
  'meta/meta-llama-3-8b-instruct',
  'meta/meta-llama-3.1-405b-instruct',
  'mistralai/mixtral-8x7b-instruct-v0.1',
  'ibm-granite/granite-3.3-8b-instruct',
  'deepseek-ai/deepseek-r1',
] as const;

/** Tuning for tests and deployments; the defaults suit production. */
export interface ReplicateAdapterSettings {
  polling?: Partial<PollingSettings>;
}

/** Creates the Replicate adapter with default polling. */
export const createReplicateAdapter: AdapterFactory = () => createReplicateAdapterWith({});

/** Creates the Replicate adapter with explicit settings (tests inject `polling.waitBeforePoll`). */
export function createReplicateAdapterWith(settings: ReplicateAdapterSettings): ProviderAdapter {
  const polling: PollingSettings = { ...defaultPollingSettings, ...settings.polling };
  // The stream's decoder needs the prediction `buildRequest` created, and the core hands both calls of one attempt
  // the same context object: keyed by it, a retry's fresh context never picks up an earlier attempt's prediction,
  // and an attempt that never gets a decoder leaves nothing behind.
  const streamedPredictions = new WeakMap<ProviderContext, ReplicatePrediction>();
  return {
    type: 'replicate',
    displayName: 'Replicate',
    defaultBaseUrl: REPLICATE_DEFAULT_BASE_URL,
    credentialStyle: 'value',
    knownModels: KNOWN_MODELS,
    chat: {
      async buildRequest(request, context, options) {
        const input = toReplicateInput(request);
        const target = resolvePredictionTarget(context.model, context.key, baseUrl(context));
        const body: CreatePredictionBody = target.version === undefined ? { input } : { version: target.version, input };
        if (!options.stream) {
          // Streamed runs get no deadline: a stream may rightly outlast any bound set when it starts.
          const headers = { ...jsonHeaders(context), prefer: `wait=${syncWaitSeconds(context)}`, 'cancel-after': runDeadline(context.provider.network.timeoutMs) };
          return { method: 'POST', url: target.url, headers, body: JSON.stringify(body) };
        }
        const { prediction, request: streamRequest } = await openStream(context, target.url, { ...body, stream: true });
        streamedPredictions.set(context, prediction);
        return streamRequest;
      },
      async parseResponse(response, context) {
        const created = readPrediction(response);
        const settled = await settlePrediction(created, context, authHeaders(context), `${baseUrl(context)}/v1/predictions/{id}`, polling);
        return predictionToChatResult(settled, context);
      },
      // The core sends the create call detached from the client and hands its reply here when the client left.
      abandonedReply(response, context) {
        return cancelAbandoned(response, context, authHeaders(context));
      },
      createStreamDecoder(context) {
        const prediction = streamedPredictions.get(context);
        if (!prediction) return createReplicateStreamDecoder(context);
        streamedPredictions.delete(context);
        return createReplicateStreamDecoder(context, {
          prediction,
          fallbackGetUrl: `${baseUrl(context)}/v1/predictions/{id}`,
          headers: authHeaders(context),
          polling,
        });
      },
    },
    parseError(response) {
      return parseReplicateError(response);
    },
  };
}

/**
 * Creates the prediction itself, because the stream URL exists only once it does, and returns it with the GET that
 * opens the event stream. Errors creating it are thrown as upstream GatewayErrors; a client that leaves during the
 * create call gets its 499 at once, and the prediction is cancelled once the call's reply names it.
 */
async function openStream(context: ProviderContext, url: string, body: CreatePredictionBody): Promise<{ prediction: ReplicatePrediction; request: UpstreamRequest }> {
  const response = await sendCreation(context, { method: 'POST', url, headers: jsonHeaders(context), body: JSON.stringify(body) }, authHeaders(context));
  if (response.status < 200 || response.status >= 300) throw replicateErrorToThrow(response);
  const prediction = readPrediction(response);
  const failure = predictionFailure(prediction);
  if (failure) throw failure;
  const streamUrl = prediction.urls?.stream;
  if (!streamUrl) {
    // Without a stream URL the run would finish unseen and still be billed.
    await cancelQuietly(prediction, context, authHeaders(context));
    throw errors.badRequest(`Replicate model "${context.model}" does not support streaming; retry with stream: false.`, {
      param: 'stream',
      code: 'streaming_not_supported',
    });
  }
  return {
    prediction,
    request: { method: 'GET', url: streamUrl, headers: { ...authHeaders(context), accept: 'text/event-stream', 'cache-control': 'no-store' } },
  };
}

function baseUrl(context: ProviderContext): string {
  return (context.provider.network.baseUrl ?? REPLICATE_DEFAULT_BASE_URL).replace(/\/+$/, '');
}

function authHeaders(context: ProviderContext): Record<string, string> {
  // The credential is set last so that configured extra headers can never replace it.
  return { ...context.provider.network.extraHeaders, authorization: `Bearer ${context.key.value}` };
}

function jsonHeaders(context: ProviderContext): Record<string, string> {
  return { ...authHeaders(context), 'content-type': 'application/json', accept: 'application/json' };
}

/** Holds the create call no longer than the provider's timeout allows, leaving a second to spare. */
function syncWaitSeconds(context: ProviderContext): number {
  const seconds = Math.floor(context.provider.network.timeoutMs / 1000) - 1;
  return Math.min(MAX_SYNC_WAIT_SECONDS, Math.max(1, seconds));
}
