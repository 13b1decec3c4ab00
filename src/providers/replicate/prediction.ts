/**
 * A settled Replicate prediction → OpenAI chat completion, and the prediction states that are errors.
 */
import { GatewayError } from '../../spec/errors.js';
import type { ChatCompletion, FinishReason } from '../../spec/openai.js';
import type { ChatResult, UpstreamResponse } from '../../spec/provider.js';
import { readTokenCounts, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { ReplicatePrediction } from './wire-types.js';

/** What a translation needs besides the prediction. */
export interface CompletionIdentity {
  model: string;
  requestId: string;
  now: () => number;
}

/** Reads a prediction reply; a body that is not a prediction is a 502 from upstream. */
export function readPrediction(response: UpstreamResponse): ReplicatePrediction {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(response.body));
  } catch (cause) {
    throw upstreamFailure('Replicate answered with a body that is not JSON.', 'upstream_invalid_response', cause);
  }
  const record = parsed as Partial<ReplicatePrediction> | null;
  if (!record || typeof record !== 'object' || typeof record.id !== 'string' || typeof record.status !== 'string') {
    throw upstreamFailure('Replicate answered with something that is not a prediction.', 'upstream_invalid_response');
  }
  const problem = urlsProblem(record.urls);
  if (problem !== undefined) throw upstreamFailure(`Replicate answered with a prediction whose ${problem}.`, 'upstream_invalid_response');
  return record as ReplicatePrediction;
}

/**
 * The URLs Tollgate follows (`get` to poll, `cancel`, `stream`) must be http(s) URLs when they are there: the
 * next request goes to them, and one that is not a URL would fail there, far from the reply that was broken.
 */
function urlsProblem(urls: unknown): string | undefined {
  if (urls === undefined || urls === null) return undefined;
  if (typeof urls !== 'object' || Array.isArray(urls)) return '"urls" is not an object';
  for (const name of ['get', 'cancel', 'stream'] as const) {
    const value = (urls as Record<string, unknown>)[name];
    if (value !== undefined && value !== null && !isHttpUrl(value)) return `urls.${name} is not an http(s) URL`;
  }
  return undefined;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** True while the prediction may still change: `starting` or `processing`. */
export function isPending(prediction: ReplicatePrediction): boolean {
  return prediction.status === 'starting' || prediction.status === 'processing';
}

/**
 * The GatewayError for a prediction that ended without output: `failed` (the model raised) and `canceled` or
 * `aborted` (someone or a deadline stopped it) are all 502s relayed from upstream.
 */
export function predictionFailure(prediction: ReplicatePrediction): GatewayError | undefined {
  if (prediction.status === 'failed') {
    const detail = typeof prediction.error === 'string' && prediction.error !== '' ? prediction.error : 'no error message';
    return upstreamFailure(`Replicate prediction ${prediction.id} failed: ${detail}`, 'prediction_failed');
  }
  if (prediction.status === 'canceled' || prediction.status === 'aborted') {
    return upstreamFailure(`Replicate prediction ${prediction.id} was ${prediction.status} before it finished.`, 'prediction_canceled');
  }
  return undefined;
}

/** Translates a `succeeded` prediction; one in any other state that is not pending has no answer to give (502). */
export function predictionToChatResult(prediction: ReplicatePrediction, identity: CompletionIdentity): ChatResult {
  const failure = predictionFailure(prediction);
  if (failure) throw failure;
  if (prediction.status !== 'succeeded') {
    throw upstreamFailure(`Replicate prediction ${prediction.id} ended in a state Tollgate does not know: ${prediction.status}.`, 'upstream_invalid_response');
  }
  const usage = readPredictionUsage(prediction);
  const completion: ChatCompletion = {
    id: `chatcmpl-${prediction.id || identity.requestId}`,
    object: 'chat.completion',
    created: Math.floor(identity.now() / 1000),
    model: identity.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: joinOutput(prediction.output) },
        finish_reason: finishReason(prediction, usage),
        logprobs: null,
      },
    ],
  };
  if (usage) completion.usage = toOpenAIUsage(usage);
  return { completion, usage };
}

/** Language models return an array of text fragments; a plain string or another shape is tolerated. */
export function joinOutput(output: unknown): string {
  if (output === undefined || output === null) return '';
  if (typeof output === 'string') return output;
  if (Array.isArray(output) && output.every((item) => typeof item === 'string')) return output.join('');
  return JSON.stringify(output);
}

/**
 * Usage from `metrics.input_token_count` / `output_token_count`, when the model reports them; undefined when it
 * does not, or when a count is not one (the request is then charged its reservation).
 */
export function readPredictionUsage(prediction: ReplicatePrediction): TokenUsage | undefined {
  const metrics: unknown = prediction.metrics;
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) return undefined;
  const { input_token_count: input, output_token_count: output } = metrics as Record<string, unknown>;
  if ((input === undefined || input === null) && (output === undefined || output === null)) return undefined;
  const counts = readTokenCounts(metrics, ['input_token_count', 'output_token_count']);
  if (counts === undefined) return undefined;
  return { inputTokens: counts.input_token_count, outputTokens: counts.output_token_count, cachedInputTokens: 0 };
}

/**
 * Replicate reports no stop reason. The prediction echoes its input, so reaching the requested token limit is
 * read as `length`; anything else is `stop`.
 */
function finishReason(prediction: ReplicatePrediction, usage: TokenUsage | undefined): FinishReason {
  const input: unknown = prediction.input;
  const echoed = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const limit = echoed.max_tokens ?? echoed.max_new_tokens;
  if (usage && typeof limit === 'number' && limit > 0 && usage.outputTokens >= limit) return 'length';
  return 'stop';
}

function upstreamFailure(message: string, code: string, cause?: unknown): GatewayError {
  return new GatewayError({ status: 502, type: 'upstream_error', code, message, upstream: true, cause });
}
