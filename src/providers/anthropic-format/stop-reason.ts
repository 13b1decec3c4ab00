/** Stop reasons between Anthropic and OpenAI, both directions (reference §3). */
import type { AnthropicStopReason } from '../../spec/anthropic.js';
import type { FinishReason } from '../../spec/openai.js';

const FINISH_REASON_BY_STOP_REASON: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // The server-tool loop paused; the caller resends to continue, which to an OpenAI client is a normal stop.
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Maps an Anthropic `stop_reason` to an OpenAI `finish_reason`; unknown reasons read as `stop`. */
export function finishReasonFromStopReason(stopReason: string | null | undefined): FinishReason {
  if (stopReason === null || stopReason === undefined) return 'stop';
  // Own members only: a stop reason such as "constructor" must not find Object's.
  return Object.hasOwn(FINISH_REASON_BY_STOP_REASON, stopReason) ? FINISH_REASON_BY_STOP_REASON[stopReason]! : 'stop';
}

/** Maps an OpenAI `finish_reason` to an Anthropic `stop_reason`, for Tollgate's own /v1/messages. */
export function stopReasonFromFinishReason(finishReason: string | null | undefined): AnthropicStopReason {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}
