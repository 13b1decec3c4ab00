/**
 * The valid replies and streams of every provider family, as its upstream sends them, and the encoders of scripted
 * streams (SSE, Google's CRLF SSE, Bedrock's event-stream frames): what the malformed-reply tests start from.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Json, JsonObject } from './malformed-reply-support.js';

/** One event of a scripted stream: an SSE event (name optional) or, for Bedrock, an event-stream frame. */
export interface ScriptedEvent {
  event?: string;
  /** JSON data; for Replicate's `output` events a string sent as it is. */
  data: Json;
}

/** The stream with the data of event `index` changed by `change` (on a copy). */
export function withEvent(events: ScriptedEvent[], index: number, change: (data: any) => void): ScriptedEvent[] {
  const copy = structuredClone(events);
  change(copy[index]!.data);
  return copy;
}

export const upstreamText = 'Hello from upstream';

// --- Valid replies --------------------------------------------------------------------------------------------

export const openaiCompletion: JsonObject = {
  id: 'chatcmpl-fuzz',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: upstreamText,
        refusal: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
        annotations: [],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } },
  system_fingerprint: 'fp_fuzz',
};

const openaiChunk = (delta: JsonObject, finishReason: string | null): JsonObject => ({
  id: 'chatcmpl-fuzz',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  usage: null,
});
export const openaiStream: ScriptedEvent[] = [
  { data: openaiChunk({ role: 'assistant', content: '' }, null) },
  { data: openaiChunk({ content: 'Hello ' }, null) },
  { data: openaiChunk({ content: 'from upstream' }, null) },
  { data: openaiChunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }, null) },
  { data: openaiChunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":"x"}' } }] }, null) },
  { data: openaiChunk({}, 'tool_calls') },
  { data: { ...openaiChunk({}, null), choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } } },
];

/** OpenAI's Response to a native `/v1/responses` request: a reasoning item, the text, a function call. */
const responsesMessage = { id: 'msg_fuzz', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: upstreamText, annotations: [], logprobs: [] }] };
const responsesCall = { id: 'fc_fuzz', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' };
const responsesUsage = { input_tokens: 12, input_tokens_details: { cached_tokens: 2 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 19 };
const responseOf = (status: string, output: JsonObject[], usage: JsonObject | null): JsonObject => ({
  id: 'resp_fuzz',
  object: 'response',
  created_at: 1_700_000_000,
  status,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: 64,
  model: 'gpt-4o-mini-2024-07-18',
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: 'low', summary: 'auto' },
  store: false,
  temperature: 1,
  text: { format: { type: 'text' }, verbosity: 'medium' },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  truncation: 'disabled',
  usage,
  user: null,
  metadata: {},
});
export const responsesReply: JsonObject = responseOf(
  'completed',
  [{ id: 'rs_fuzz', type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'gAAAAABfuzz' }, responsesMessage, responsesCall],
  responsesUsage,
);
const responsesEvent = (type: string, members: JsonObject) => ({ event: type, data: { type, ...members } });
export const responsesStream: ScriptedEvent[] = [
  responsesEvent('response.created', { response: responseOf('in_progress', [], null) }),
  responsesEvent('response.in_progress', { response: responseOf('in_progress', [], null) }),
  responsesEvent('response.output_item.added', { output_index: 0, item: { ...responsesMessage, status: 'in_progress', content: [] } }),
  responsesEvent('response.content_part.added', { item_id: 'msg_fuzz', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
  responsesEvent('response.output_text.delta', { item_id: 'msg_fuzz', output_index: 0, content_index: 0, delta: 'Hello ', logprobs: [] }),
  responsesEvent('response.output_text.delta', { item_id: 'msg_fuzz', output_index: 0, content_index: 0, delta: 'from upstream', logprobs: [] }),
  responsesEvent('response.output_text.done', { item_id: 'msg_fuzz', output_index: 0, content_index: 0, text: upstreamText, logprobs: [] }),
  responsesEvent('response.content_part.done', { item_id: 'msg_fuzz', output_index: 0, content_index: 0, part: responsesMessage.content[0]! }),
  responsesEvent('response.output_item.done', { output_index: 0, item: responsesMessage }),
  responsesEvent('response.output_item.added', { output_index: 1, item: { ...responsesCall, status: 'in_progress', arguments: '' } }),
  responsesEvent('response.function_call_arguments.delta', { item_id: 'fc_fuzz', output_index: 1, delta: '{"q":"x"}' }),
  responsesEvent('response.function_call_arguments.done', { item_id: 'fc_fuzz', output_index: 1, name: 'lookup', arguments: '{"q":"x"}' }),
  responsesEvent('response.output_item.done', { output_index: 1, item: responsesCall }),
  responsesEvent('response.completed', { response: responseOf('completed', [responsesMessage, responsesCall], responsesUsage) }),
].map((event, index) => ({ ...event, data: { ...event.data, sequence_number: index } }));

export const anthropicMessage: JsonObject = {
  id: 'msg_fuzz',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'hmm', signature: 'sig' },
    { type: 'text', text: upstreamText },
    { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 1, cache_read_input_tokens: 2 },
};

const anthropicEvent = (type: string, data: JsonObject): ScriptedEvent => ({ event: type, data: { type, ...data } });
export const anthropicStream: ScriptedEvent[] = [
  anthropicEvent('message_start', { message: { ...anthropicMessage, content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent('ping', {}),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello ' } }),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'from upstream' } }),
  anthropicEvent('content_block_stop', { index: 0 }),
  anthropicEvent('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } }),
  anthropicEvent('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":"x"}' } }),
  anthropicEvent('content_block_stop', { index: 1 }),
  anthropicEvent('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 7 } }),
  anthropicEvent('message_stop', {}),
];

export const geminiResponse: JsonObject = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [{ text: 'thinking', thought: true }, { text: upstreamText }, { functionCall: { name: 'lookup', args: { q: 'x' } }, thoughtSignature: 'c2ln' }],
      },
      finishReason: 'STOP',
      index: 0,
    },
  ],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 21, thoughtsTokenCount: 2, cachedContentTokenCount: 1 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp-fuzz',
};

const geminiRecord = (parts: Json[], finishReason?: string, usage?: JsonObject): ScriptedEvent => ({
  data: {
    candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    ...(usage ? { usageMetadata: usage } : {}),
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-fuzz',
  },
});
export const geminiStream: ScriptedEvent[] = [
  geminiRecord([{ text: 'Hello ' }]),
  geminiRecord([{ text: 'from upstream' }]),
  geminiRecord([{ functionCall: { name: 'lookup', args: { q: 'x' } } }], 'STOP', { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 }),
];

export const converseResponse: JsonObject = {
  output: {
    message: {
      role: 'assistant',
      content: [
        { reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } },
        { text: upstreamText },
        { toolUse: { toolUseId: 'tooluse_1', name: 'lookup', input: { q: 'x' } } },
      ],
    },
  },
  stopReason: 'tool_use',
  usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19, cacheReadInputTokens: 1, cacheWriteInputTokens: 1 },
  metrics: { latencyMs: 42 },
};

export const converseStream: ScriptedEvent[] = [
  { event: 'messageStart', data: { role: 'assistant' } },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'Hello ' } } },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'from upstream' } } },
  { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
  { event: 'contentBlockStart', data: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: 'lookup' } } } },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 1, delta: { toolUse: { input: '{"q":"x"}' } } } },
  { event: 'contentBlockStop', data: { contentBlockIndex: 1 } },
  { event: 'messageStop', data: { stopReason: 'tool_use' } },
  { event: 'metadata', data: { usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 }, metrics: { latencyMs: 42 } } },
];

export const cohereResponse: JsonObject = {
  id: 'cohere-fuzz',
  finish_reason: 'TOOL_CALL',
  message: {
    role: 'assistant',
    content: [{ type: 'text', text: upstreamText }],
    tool_plan: 'I will look it up.',
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
  },
  usage: { billed_units: { input_tokens: 10, output_tokens: 7 }, tokens: { input_tokens: 12, output_tokens: 7 } },
};

const cohereEvent = (type: string, data: JsonObject): ScriptedEvent => ({ event: type, data: { type, ...data } });
export const cohereStream: ScriptedEvent[] = [
  cohereEvent('message-start', { id: 'cohere-fuzz', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [] } } }),
  cohereEvent('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
  cohereEvent('content-delta', { index: 0, delta: { message: { content: { text: 'Hello ' } } } }),
  cohereEvent('content-delta', { index: 0, delta: { message: { content: { text: 'from upstream' } } } }),
  cohereEvent('content-end', { index: 0 }),
  cohereEvent('tool-call-start', { index: 0, delta: { message: { tool_calls: { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } } } } }),
  cohereEvent('tool-call-delta', { index: 0, delta: { message: { tool_calls: { function: { arguments: '{"q":"x"}' } } } } }),
  cohereEvent('tool-call-end', { index: 0 }),
  cohereEvent('message-end', { delta: { finish_reason: 'TOOL_CALL', usage: { billed_units: { input_tokens: 10, output_tokens: 7 }, tokens: { input_tokens: 12, output_tokens: 7 } } } }),
];

export const replicateStream: ScriptedEvent[] = [
  { event: 'output', data: 'Hello ' },
  { event: 'logs', data: 'generating' },
  { event: 'output', data: 'from upstream' },
  { event: 'done', data: {} },
];

// --- Encoding -------------------------------------------------------------------------------------------------

function dataText(data: Json): string {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

/** SSE text of events; each line of the data becomes its own `data:` line. */
export function sse(events: ScriptedEvent[], lineBreak = '\n', closing = ''): string {
  const blocks = events.map((item) => {
    const lines = [...(item.event ? [`event: ${item.event}`] : []), ...dataText(item.data).split('\n').map((line) => `data: ${line}`)];
    return `${lines.join(lineBreak)}${lineBreak}${lineBreak}`;
  });
  return blocks.join('') + closing;
}

/** Google writes every record as JSON, strings included, with CRLF framing. */
export function googleSse(events: ScriptedEvent[]): string {
  return events
    .map((item) => `${item.event ? `event: ${item.event}\r\n` : ''}data: ${JSON.stringify(item.data)}\r\n\r\n`)
    .join('');
}

const frameCodec = new EventStreamCodec(toUtf8, fromUtf8);

/** Bedrock event-stream frames; a string payload is sent as its text (not JSON), anything else as JSON. */
export function bedrockFrames(events: ScriptedEvent[]): Uint8Array {
  const frames = events.map((item) =>
    frameCodec.encode({
      headers: {
        ':event-type': { type: 'string', value: item.event ?? 'unknown' },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(typeof item.data === 'string' ? item.data : JSON.stringify(item.data)),
    }),
  );
  return Buffer.concat(frames);
}

/**
 * Anthropic's events as InvokeModelWithResponseStream wraps them for Claude on Bedrock: each event's JSON (a string
 * data as it is) base64-encoded as the `bytes` of a `chunk` frame.
 */
export function claudeChunkFramesOf(events: ScriptedEvent[]): Uint8Array {
  return bedrockFrames(events.map((item) => ({ event: 'chunk', data: { bytes: Buffer.from(dataText(item.data), 'utf8').toString('base64') } })));
}
