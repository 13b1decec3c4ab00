/**
 * OpenAI Responses API wire types: the Response object, its output items and the stream events, as far as Tollgate
 * produces them for `POST /v1/responses` (translated from the canonical chat format). Only what is emitted is
 * described; a client's SDK types hold the rest of the API.
 */

/** Where an output item stands; the last item of a cut-off response is `incomplete`. */
export type ResponseItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** Where a response stands. Tollgate never queues nor runs responses in the background. */
export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete';

export interface ResponseOutputText {
  type: 'output_text';
  text: string;
  /** Always empty: chat completions carry no citations to map. Typed as an empty tuple so it fits any annotation list. */
  annotations: [];
  /** Always empty: Tollgate does not translate chat logprobs. */
  logprobs: [];
}

export interface ResponseOutputRefusal {
  type: 'refusal';
  refusal: string;
}

export type ResponseMessagePart = ResponseOutputText | ResponseOutputRefusal;

export interface ResponseOutputMessage {
  type: 'message';
  id: string;
  status: ResponseItemStatus;
  role: 'assistant';
  content: ResponseMessagePart[];
}

export interface ResponseFunctionCall {
  type: 'function_call';
  id: string;
  /** The id the client sends back with the function's output: the chat tool call's id. */
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
  status: ResponseItemStatus;
}

export interface ResponseReasoningText {
  type: 'reasoning_text';
  text: string;
}

export interface ResponseReasoningItem {
  type: 'reasoning';
  id: string;
  /** Always empty: upstreams give raw reasoning, not OpenAI's summaries. */
  summary: [];
  content: ResponseReasoningText[];
}

/** A call of a custom tool (free-form input, OpenAI's models only). */
export interface ResponseCustomToolCall {
  type: 'custom_tool_call';
  id: string;
  /** The id the client sends back with the tool's output: the chat tool call's id. */
  call_id: string;
  name: string;
  /** The free-form input, as the model wrote it. */
  input: string;
}

export type ResponseOutputItem = ResponseOutputMessage | ResponseFunctionCall | ResponseCustomToolCall | ResponseReasoningItem;

export interface ResponseUsage {
  /** All prompt tokens, cached ones included. */
  input_tokens: number;
  /** Cache reads and cache writes, both part of input_tokens. */
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  /** All generated tokens, reasoning included. */
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** Why a response stopped short. */
export interface ResponseIncompleteDetails {
  reason: 'max_output_tokens' | 'content_filter';
}

/**
 * The request fields a Response repeats back to the client. Client-provided values are echoed as they came (the
 * request translation is what checks them), hence the loose types of the structured ones.
 */
export interface ResponseEcho {
  instructions: string | unknown[] | null;
  max_output_tokens: number | null;
  temperature: number;
  top_p: number;
  tools: unknown[];
  tool_choice: unknown;
  parallel_tool_calls: boolean;
  text: Record<string, unknown>;
  reasoning: Record<string, unknown>;
  store: boolean;
  metadata: Record<string, unknown>;
  user?: string;
  safety_identifier?: string;
  truncation: string;
  /** Always null: Tollgate keeps no responses to continue from. */
  previous_response_id: null;
  service_tier: string;
}

/** The Response object (`object: 'response'`). `output_text` is not part of it: SDKs compute it client-side. */
export interface ResponseObject extends ResponseEcho {
  id: string;
  object: 'response';
  /** Unix seconds. */
  created_at: number;
  status: ResponseStatus;
  /** Unix seconds; present once the response is completed. */
  completed_at?: number;
  /** Failures end a stream with an `error` event instead, so a Response Tollgate sends has none. */
  error: null;
  incomplete_details: ResponseIncompleteDetails | null;
  /** The model as the client named it. */
  model: string;
  output: ResponseOutputItem[];
  usage: ResponseUsage | null;
}

/** The members every stream event has. */
interface StreamEventBase {
  /** Increases by one per event of a stream, from 0. */
  sequence_number: number;
}

export type ResponseLifecycleEvent = StreamEventBase & {
  type: 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete';
  response: ResponseObject;
};

export type ResponseOutputItemEvent = StreamEventBase & {
  type: 'response.output_item.added' | 'response.output_item.done';
  output_index: number;
  item: ResponseOutputItem;
};

export type ResponseContentPartEvent = StreamEventBase & {
  type: 'response.content_part.added' | 'response.content_part.done';
  item_id: string;
  output_index: number;
  content_index: number;
  part: ResponseMessagePart | ResponseReasoningText;
};

/** Deltas of text, refusal and reasoning parts, which all point at a part of an item. */
export type ResponsePartDeltaEvent = StreamEventBase &
  (
    | { type: 'response.output_text.delta'; item_id: string; output_index: number; content_index: number; delta: string; logprobs: [] }
    | { type: 'response.refusal.delta' | 'response.reasoning_text.delta'; item_id: string; output_index: number; content_index: number; delta: string }
  );

export type ResponsePartDoneEvent = StreamEventBase &
  (
    | { type: 'response.output_text.done'; item_id: string; output_index: number; content_index: number; text: string; logprobs: [] }
    | { type: 'response.refusal.done'; item_id: string; output_index: number; content_index: number; refusal: string }
    | { type: 'response.reasoning_text.done'; item_id: string; output_index: number; content_index: number; text: string }
  );

export type ResponseFunctionArgumentsEvent = StreamEventBase &
  (
    | { type: 'response.function_call_arguments.delta'; item_id: string; output_index: number; delta: string }
    | { type: 'response.function_call_arguments.done'; item_id: string; output_index: number; name: string; arguments: string }
  );

export type ResponseCustomToolInputEvent = StreamEventBase &
  (
    | { type: 'response.custom_tool_call_input.delta'; item_id: string; output_index: number; delta: string }
    | { type: 'response.custom_tool_call_input.done'; item_id: string; output_index: number; input: string }
  );

/**
 * The `error` event that ends a failed stream. The fields are flat as the API reference documents them, and nested
 * under `error` as the live API sends them: the official SDKs throw only on the nested member.
 */
export type ResponseErrorEvent = StreamEventBase & {
  type: 'error';
  code: string | null;
  message: string;
  param: string | null;
  error: { type: string; code: string | null; message: string; param: string | null };
};

/** Every event Tollgate writes on a streamed `POST /v1/responses`. */
export type ResponseStreamEvent =
  | ResponseLifecycleEvent
  | ResponseOutputItemEvent
  | ResponseContentPartEvent
  | ResponsePartDeltaEvent
  | ResponsePartDoneEvent
  | ResponseFunctionArgumentsEvent
  | ResponseCustomToolInputEvent
  | ResponseErrorEvent;

/**
 * The members of a client's Responses request that a native request to OpenAI carries as sent (see `NativeRequest`):
 * what the translation reads, and OpenAI's own that shape the same answer (`include`, to get reasoning items back
 * with their encrypted content; `store` and `metadata`, OpenAI's keeping of the response, as the client asks;
 * `truncation`, `prompt_cache_key`, `max_tool_calls`). Never carried: `model` (the upstream's), `stream` (the
 * adapter's), `fallbacks` (Tollgate's), `service_tier` (a priced choice the reservation does not bound, left out of
 * the translation too), and the members the door refuses (`previous_response_id`, `conversation`, `prompt`,
 * `background`).
 */
export const NATIVE_RESPONSES_MEMBERS: readonly string[] = [
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'max_output_tokens',
  'temperature',
  'top_p',
  'top_logprobs',
  'parallel_tool_calls',
  'text',
  'reasoning',
  'user',
  'safety_identifier',
  'store',
  'metadata',
  'include',
  'truncation',
  'prompt_cache_key',
  'max_tool_calls',
];
