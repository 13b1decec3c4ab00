/**
 * OpenAI chat completion (from whichever provider answered) → OpenAI Responses API Response object, for Tollgate's
 * `POST /v1/responses`. The item builders here are shared with the stream encoder, so that a streamed reply ends
 * with the very Response a non-streamed one would have been.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChoice } from '../../spec/openai.js';
import type {
  ResponseCustomToolCall,
  ResponseEcho,
  ResponseFunctionCall,
  ResponseIncompleteDetails,
  ResponseItemStatus,
  ResponseMessagePart,
  ResponseObject,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseReasoningItem,
  ResponseUsage,
} from '../../spec/openai-responses.js';
import { fromOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { isRecord } from '../../spec/json-value.js';

export type { ResponseEcho, ResponseObject } from '../../spec/openai-responses.js';

function randomHex(): string {
  return randomBytes(16).toString('hex');
}

/** A fresh `resp_…` id: Tollgate stores no responses, so the id only has to be unique. */
export function responseIdFor(): string {
  return `resp_${randomHex()}`;
}

/** A fresh id of an output item: `msg` for messages, `fc` for function calls, `ctc` for custom tool calls, `rs` for reasoning. */
export function outputItemId(prefix: 'msg' | 'fc' | 'ctc' | 'rs' | 'call'): string {
  return `${prefix}_${randomHex()}`;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * The request fields a Response echoes, with the API's defaults for those not sent. `previous_response_id` is
 * always null since nothing is stored to continue from; `store` is echoed as asked even so, as the API does.
 */
export function responseEchoOf(body: Record<string, unknown>): ResponseEcho {
  const echo: ResponseEcho = {
    instructions: typeof body.instructions === 'string' || Array.isArray(body.instructions) ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    temperature: numberOr(body.temperature, 1),
    top_p: numberOr(body.top_p, 1),
    tools: Array.isArray(body.tools) ? body.tools : [],
    tool_choice: typeof body.tool_choice === 'string' || isRecord(body.tool_choice) ? body.tool_choice : 'auto',
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : true,
    // A client may send only `verbosity`; the format it left out is still plain text.
    text: isRecord(body.text) ? { format: { type: 'text' }, ...body.text } : { format: { type: 'text' } },
    reasoning: isRecord(body.reasoning) ? { effort: null, summary: null, ...body.reasoning } : { effort: null, summary: null },
    store: typeof body.store === 'boolean' ? body.store : true,
    metadata: isRecord(body.metadata) ? body.metadata : {},
    truncation: typeof body.truncation === 'string' ? body.truncation : 'disabled',
    previous_response_id: null,
    service_tier: typeof body.service_tier === 'string' ? body.service_tier : 'default',
  };
  if (typeof body.user === 'string') echo.user = body.user;
  if (typeof body.safety_identifier === 'string') echo.safety_identifier = body.safety_identifier;
  return echo;
}

/** Normalised usage in Responses terms; null when none is known, as the API has no zero-usage convention. */
export function tokenUsageToResponseUsage(usage: TokenUsage | undefined): ResponseUsage | null {
  if (usage === undefined) return null;
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens, cache_write_tokens: usage.cacheWriteTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** Why a response with this chat finish reason is incomplete; undefined when it is complete. */
export function incompleteDetailsOf(finishReason: unknown): ResponseIncompleteDetails | undefined {
  if (finishReason === 'length') return { reason: 'max_output_tokens' };
  if (finishReason === 'content_filter') return { reason: 'content_filter' };
  return undefined;
}

/** A message item holding the given parts. */
export function messageItem(id: string, content: ResponseMessagePart[], status: ResponseItemStatus): ResponseOutputMessage {
  return { type: 'message', id, status, role: 'assistant', content };
}

/** A reasoning item carrying the upstream's raw reasoning as one `reasoning_text` part. */
export function reasoningItem(id: string, text: string): ResponseReasoningItem {
  return { type: 'reasoning', id, summary: [], content: [{ type: 'reasoning_text', text }] };
}

/** A function call item; `callId` is the id the client answers with. */
export function functionCallItem(
  id: string,
  call: { callId: string; name: string; arguments: string },
  status: ResponseItemStatus,
): ResponseFunctionCall {
  return { type: 'function_call', id, call_id: call.callId, name: call.name, arguments: call.arguments, status };
}

/** A custom tool call item; `callId` is the id the client answers with. */
export function customToolCallItem(id: string, call: { callId: string; name: string; input: string }): ResponseCustomToolCall {
  return { type: 'custom_tool_call', id, call_id: call.callId, name: call.name, input: call.input };
}

/** What a Response is made of apart from the echoed request fields. */
export interface ResponseParts {
  id: string;
  model: string;
  /** Unix seconds. */
  createdAt: number;
  echo: ResponseEcho;
  output: ResponseOutputItem[];
  /** The chat finish reason, or null while the response is in progress. */
  finishReason: string | null;
  usage: TokenUsage | undefined;
  /** Unix seconds; used when the response is completed. */
  completedAt: number;
}

/**
 * Assembles a Response object. With a finish reason it is final: `completed`, or `incomplete` when the reply was
 * cut short, in which case its last item (the one being written when it was cut) is marked incomplete too.
 */
export function buildResponse(parts: ResponseParts): ResponseObject {
  const incomplete = parts.finishReason === null ? undefined : incompleteDetailsOf(parts.finishReason);
  const status = parts.finishReason === null ? 'in_progress' : incomplete === undefined ? 'completed' : 'incomplete';
  const output = parts.output.slice();
  const last = output.at(-1);
  // Messages and function calls carry a status; reasoning and custom tool call items do not.
  if (incomplete !== undefined && (last?.type === 'message' || last?.type === 'function_call')) output[output.length - 1] = { ...last, status: 'incomplete' };
  const response: ResponseObject = {
    id: parts.id,
    object: 'response',
    created_at: parts.createdAt,
    status,
    error: null,
    incomplete_details: incomplete ?? null,
    model: parts.model,
    output,
    usage: tokenUsageToResponseUsage(parts.usage),
    ...parts.echo,
  };
  if (status === 'completed') response.completed_at = parts.completedAt;
  return response;
}

export interface ChatCompletionToResponseOptions {
  /** The `resp_…` id (see {@link responseIdFor}). */
  id: string;
  /** The model as the client named it. */
  model: string;
  /** Unix seconds when the request came. */
  createdAt: number;
  echo: ResponseEcho;
  /** Usage as the core normalised it; preferred over the completion's own. */
  usage?: TokenUsage;
  /** Unix seconds when the reply was complete (from the injected clock). */
  completedAt: number;
}

function outputOf(message: ChatCompletionChoice['message'] | undefined): ResponseOutputItem[] {
  if (message === undefined) return [];
  const output: ResponseOutputItem[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    output.push(reasoningItem(outputItemId('rs'), message.reasoning_content));
  }
  const content: ResponseMessagePart[] = [];
  if (typeof message.content === 'string' && message.content !== '') {
    content.push({ type: 'output_text', text: message.content, annotations: [], logprobs: [] });
  }
  if (typeof message.refusal === 'string' && message.refusal !== '') content.push({ type: 'refusal', refusal: message.refusal });
  if (content.length > 0) output.push(messageItem(outputItemId('msg'), content, 'completed'));
  const calls: unknown[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const call of calls) {
    if (!isRecord(call)) continue;
    const callId = typeof call.id === 'string' && call.id !== '' ? call.id : outputItemId('call');
    if (call.type === 'custom' && isRecord(call.custom)) {
      const { name, input } = call.custom;
      output.push(customToolCallItem(outputItemId('ctc'), { callId, name: typeof name === 'string' ? name : '', input: typeof input === 'string' ? input : '' }));
      continue;
    }
    if ((typeof call.type === 'string' && call.type !== 'function') || !isRecord(call.function)) continue;
    const { name, arguments: argumentsText } = call.function;
    output.push(
      functionCallItem(
        outputItemId('fc'),
        {
          callId,
          name: typeof name === 'string' ? name : '',
          arguments: typeof argumentsText === 'string' ? argumentsText : '',
        },
        'completed',
      ),
    );
  }
  return output;
}

/**
 * Translates a chat completion into a Response: a reasoning item first when the model reasoned, then a message item
 * with the text (and the refusal), then one function or custom tool call item per tool call. Only the first choice is used, since
 * a Response carries one answer. `usage`, when the core has it normalised, is preferred over the completion's own.
 */
export function chatCompletionToResponse(completion: ChatCompletion, options: ChatCompletionToResponseOptions): ResponseObject {
  // A completion forwarded from an OpenAI-compatible upstream keeps members no adapter checked: read defensively.
  const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  const message = isRecord(choice) && isRecord(choice.message) ? (choice.message as ChatCompletionChoice['message']) : undefined;
  const finishReason = isRecord(choice) && typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop';
  return buildResponse({
    id: options.id,
    model: options.model,
    createdAt: options.createdAt,
    echo: options.echo,
    output: outputOf(message),
    finishReason,
    usage: options.usage ?? fromOpenAIUsage(completion.usage),
    completedAt: options.completedAt,
  });
}
