/**
 * The Responses API part of the OpenAI mock (`POST <prefix>/v1/responses`, see `openai-mock.ts`): the body checks
 * OpenAI makes, the deterministic Response object and its event stream. `startOpenAIMock` routes to it; nothing here
 * starts a server.
 */
import type { ServerResponse } from 'node:http';
import { formatServerSentEvent, sendEventStream, sendJson } from './mock-server.js';
import { MOCK_CREATED, invalid, messageText, mockHexId, mockTokenCount } from './openai-mock.js';

/** The top-level parameters OpenAI's `POST /v1/responses` knows; any other is a 400 `unknown_parameter`. */
const KNOWN_PARAMETERS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'max_output_tokens', 'temperature', 'top_p',
  'parallel_tool_calls', 'text', 'reasoning', 'user', 'safety_identifier', 'store', 'stream', 'stream_options',
  'metadata', 'previous_response_id', 'conversation', 'prompt', 'include', 'truncation', 'prompt_cache_key',
  'service_tier', 'background', 'top_logprobs', 'max_tool_calls', 'prompt_cache_retention',
]);

/** The reasoning tokens the mock reports whenever it answers with a reasoning item. */
export const MOCK_REASONING_TOKENS = 8;

/** The snapshot date the mock appends to a requested model that has none, as OpenAI answers with a dated snapshot. */
export const MOCK_SNAPSHOT_SUFFIX = '-2025-04-14';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** How OpenAI names a JSON value's type in its `invalid_type` messages. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return `a ${typeof value}`;
}

/** What OpenAI answers to a Responses body it refuses, in the order it checks; undefined when acceptable. */
export function checkResponsesBody(body: Json): { status: number; body: unknown } | undefined {
  const refuse = (message: string, param: string | null, code: string | null = null) => ({ status: 400, body: invalid(message, param, code) });
  const unknown = Object.keys(body).find((name) => !KNOWN_PARAMETERS.has(name));
  if (unknown !== undefined) return refuse(`Unknown parameter: '${unknown}'.`, unknown, 'unknown_parameter');
  for (const name of ['model', 'input'] as const) {
    if (body[name] === undefined) return refuse(`Missing required parameter: '${name}'.`, name, 'missing_required_parameter');
  }
  if (typeof body.model !== 'string') {
    return refuse(`Invalid type for 'model': expected a string, but got ${typeName(body.model)} instead.`, 'model', 'invalid_type');
  }
  if (body.model === '') {
    return refuse("Invalid 'model': empty string. Expected a string with minimum length 1, but got an empty string instead.", 'model', 'empty_string');
  }
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    const message = `Invalid type for 'input': expected one of a string or an array of input items, but got ${typeName(body.input)} instead.`;
    return refuse(message, 'input', 'invalid_type');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return refuse("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  // Without `store`, OpenAI keeps no reasoning items: one sent back must carry its encrypted content.
  if (body.store === false && Array.isArray(body.input)) {
    const lost = body.input.find((item) => isRecord(item) && item.type === 'reasoning' && typeof item.encrypted_content !== 'string') as Json | undefined;
    if (lost !== undefined) {
      const message =
        `Item with id '${String(lost.id ?? '')}' not found. Items are not persisted when \`store\` is set to false. ` +
        'Try again with `store` set to true, or remove this item from your input.';
      return { status: 404, body: invalid(message, 'input') };
    }
  }
  return undefined;
}

interface SummaryPart {
  type: 'summary_text';
  text: string;
}

type OutputItem =
  | { id: string; type: 'reasoning'; summary: SummaryPart[]; encrypted_content?: string }
  | { id: string; type: 'message'; status: 'completed' | 'incomplete'; content: Json[]; role: 'assistant' }
  | { id: string; type: 'function_call'; status: 'completed'; arguments: string; call_id: string; name: string };

interface ResponsePlan {
  id: string;
  body: Json;
  model: string;
  output: OutputItem[];
  incomplete: boolean;
  usage: Json;
}

/** The text an input item brings to the prompt: a message's content, a call's arguments or output, a summary. */
function inputItemText(item: unknown): string {
  if (!isRecord(item)) return '';
  if (item.type === 'function_call_output') return messageText(item.output);
  if (item.type === 'function_call') return typeof item.arguments === 'string' ? item.arguments : '';
  if (item.type === 'reasoning') return messageText(item.summary);
  return messageText(item.content);
}

function outputText(text: string): Json {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

/** The input tokens the mock counts for a Responses request: its instructions and each input item's text. */
export function responsesInputTokens(body: Json): number {
  const input = body.input as string | unknown[] | undefined;
  const instructions = typeof body.instructions === 'string' ? body.instructions : '';
  const items = Array.isArray(input) ? input : [];
  return mockTokenCount(instructions) + (typeof input === 'string' ? mockTokenCount(input) : items.reduce<number>((sum, item) => sum + mockTokenCount(inputItemText(item)), 0));
}

/** The parameters OpenAI's input-token counter knows; any other is a 400 `unknown_parameter`. */
const COUNT_PARAMETERS = new Set(['model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'truncation', 'conversation', 'previous_response_id']);

/** What OpenAI answers to an input-token count it refuses; undefined when acceptable. */
export function checkInputTokensBody(body: Json): { status: number; body: unknown } | undefined {
  const unknown = Object.keys(body).find((name) => !COUNT_PARAMETERS.has(name));
  if (unknown !== undefined) return { status: 400, body: invalid(`Unknown parameter: '${unknown}'.`, unknown, 'unknown_parameter') };
  if (body.model !== undefined && typeof body.model !== 'string') {
    return { status: 400, body: invalid(`Invalid type for 'model': expected a string, but got ${typeName(body.model)} instead.`, 'model', 'invalid_type') };
  }
  return undefined;
}

/** Decides the deterministic answer to a valid Responses request. */
function planResponse(body: Json, sequence: number): ResponsePlan {
  const input = body.input as string | unknown[];
  const items = typeof input === 'string' ? [] : input;
  const lastUser = [...items].reverse().find((item) => isRecord(item) && item.role === 'user') as Json | undefined;
  const userText = typeof input === 'string' ? input : lastUser === undefined ? '' : messageText(lastUser.content);
  const inputTokens = responsesInputTokens(body);
  const model = String(body.model);
  const output: OutputItem[] = [];
  let outputTokens = 0;
  let reasoningTokens = 0;
  let incomplete = false;

  const reasoning = isRecord(body.reasoning) ? body.reasoning : undefined;
  if (reasoning !== undefined || /^(o\d|gpt-5)/.test(model)) {
    const item: OutputItem = { id: mockHexId('rs', sequence), type: 'reasoning', summary: [] };
    if (typeof reasoning?.summary === 'string') item.summary.push({ type: 'summary_text', text: `Thinking about: ${userText}` });
    if (Array.isArray(body.include) && body.include.includes('reasoning.encrypted_content')) {
      item.encrypted_content = `gAAAAAB${Buffer.from(`mock reasoning ${sequence}: ${userText}`).toString('base64url')}`;
    }
    output.push(item);
    reasoningTokens = MOCK_REASONING_TOKENS;
  }

  const functions = (Array.isArray(body.tools) ? body.tools : []).filter((tool): tool is Json => isRecord(tool) && tool.type === 'function');
  const choice = body.tool_choice;
  const named = isRecord(choice) && choice.type === 'function' && typeof choice.name === 'string' ? choice.name : undefined;
  if (functions.length > 0 && (choice === 'required' || named !== undefined)) {
    const argumentsText = JSON.stringify({ input: userText });
    const name = named ?? String(functions[0]?.name ?? 'tool');
    output.push({ id: mockHexId('fc', sequence), type: 'function_call', status: 'completed', arguments: argumentsText, call_id: mockHexId('call', sequence, 24), name });
    outputTokens = mockTokenCount(argumentsText);
  } else {
    const limit = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
    incomplete = limit !== undefined && mockTokenCount(userText) > limit;
    const text = incomplete ? userText.slice(0, (limit ?? 0) * 4) : userText;
    const status = incomplete ? 'incomplete' : 'completed';
    output.push({ id: mockHexId('msg', sequence), type: 'message', status, content: [outputText(text)], role: 'assistant' });
    outputTokens = mockTokenCount(text);
  }

  outputTokens += reasoningTokens;
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens,
  };
  return { id: mockHexId('resp', sequence), body, model, output, incomplete, usage };
}

/** The model OpenAI names in its reply: the requested one, as a dated snapshot when it had no date. */
function answeredModel(model: string): string {
  return /-\d{4}-\d{2}-\d{2}$/.test(model) ? model : `${model}${MOCK_SNAPSHOT_SUFFIX}`;
}

/** The Response object: finished (as replied and in the last event), or as the stream's first events show it. */
function responseObject(plan: ResponsePlan, finished: boolean): Json {
  const body = plan.body;
  const echo = (name: string, fallback: unknown, accept: (value: unknown) => boolean): unknown => (accept(body[name]) ? body[name] : fallback);
  const isString = (value: unknown) => typeof value === 'string';
  const isNumber = (value: unknown) => typeof value === 'number';
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  return {
    id: plan.id,
    object: 'response',
    created_at: MOCK_CREATED,
    status: finished ? (plan.incomplete ? 'incomplete' : 'completed') : 'in_progress',
    error: null,
    incomplete_details: finished && plan.incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: echo('instructions', null, isString),
    max_output_tokens: echo('max_output_tokens', null, isNumber),
    model: answeredModel(plan.model),
    output: finished ? plan.output : [],
    parallel_tool_calls: echo('parallel_tool_calls', true, (value) => typeof value === 'boolean'),
    previous_response_id: echo('previous_response_id', null, isString),
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    store: echo('store', true, (value) => typeof value === 'boolean'),
    temperature: echo('temperature', 1, isNumber),
    text: { format: { type: 'text' }, verbosity: 'medium', ...(isRecord(body.text) ? body.text : {}) },
    tool_choice: echo('tool_choice', 'auto', (value) => value !== undefined && value !== null),
    tools: echo('tools', [], Array.isArray),
    top_p: echo('top_p', 1, isNumber),
    truncation: echo('truncation', 'disabled', isString),
    usage: finished ? plan.usage : null,
    user: echo('user', null, isString),
    metadata: echo('metadata', {}, isRecord),
  };
}

/** The text pieces a stream sends one per delta: each word with the spaces after it, as the chat stream splits. */
function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** The events of one output item, from `response.output_item.added` to `response.output_item.done`. */
function itemEvents(item: OutputItem, outputIndex: number): Json[] {
  const at = { item_id: item.id, output_index: outputIndex };
  const events: Json[] = [];
  if (item.type === 'reasoning') {
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, summary: [] } });
    item.summary.forEach((part, index) => {
      const summaryAt = { ...at, summary_index: index };
      events.push({ type: 'response.reasoning_summary_part.added', ...summaryAt, part: { type: 'summary_text', text: '' } });
      for (const delta of words(part.text)) events.push({ type: 'response.reasoning_summary_text.delta', ...summaryAt, delta });
      events.push({ type: 'response.reasoning_summary_text.done', ...summaryAt, text: part.text });
      events.push({ type: 'response.reasoning_summary_part.done', ...summaryAt, part });
    });
  } else if (item.type === 'message') {
    const text = String(item.content[0]?.text ?? '');
    const partAt = { ...at, content_index: 0 };
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
    events.push({ type: 'response.content_part.added', ...partAt, part: outputText('') });
    for (const delta of words(text)) events.push({ type: 'response.output_text.delta', ...partAt, delta, logprobs: [] });
    events.push({ type: 'response.output_text.done', ...partAt, text, logprobs: [] });
    events.push({ type: 'response.content_part.done', ...partAt, part: outputText(text) });
  } else {
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
    events.push({ type: 'response.function_call_arguments.delta', ...at, delta: item.arguments });
    events.push({ type: 'response.function_call_arguments.done', ...at, name: item.name, arguments: item.arguments });
  }
  events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  return events;
}

/** Every event of the streamed reply, numbered from 0 by `sequence_number`. */
function responseEvents(plan: ResponsePlan): Json[] {
  const opening = responseObject(plan, false);
  const events: Json[] = [
    { type: 'response.created', response: opening },
    { type: 'response.in_progress', response: opening },
    ...plan.output.flatMap((item, index) => itemEvents(item, index)),
    { type: plan.incomplete ? 'response.incomplete' : 'response.completed', response: responseObject(plan, true) },
  ];
  return events.map((event, index) => ({ ...event, sequence_number: index }));
}

/**
 * Writes Responses events as `event: <type>` + `data: <json>`, without `[DONE]` (the Responses API sends none); a
 * string chunk goes out as the raw `data:` text. With `failAfter`, the socket is destroyed after that many events.
 */
export function writeResponsesEventStream(response: ServerResponse, events: unknown[], headers: Record<string, string>, failAfter?: number): void {
  const streamHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers };
  const formatted = events.map((event) => {
    const type = isRecord(event) && typeof event.type === 'string' ? event.type : undefined;
    return formatServerSentEvent(type === undefined ? { data: event } : { event: type, data: event });
  });
  sendEventStream(response, streamHeaders, formatted, { failAfter });
}

/** Answers a valid `POST /v1/responses`: the Response as JSON, or its event stream with `stream: true`. */
export function sendResponsesReply(response: ServerResponse, body: Json, sequence: number, headers: Record<string, string>): void {
  const plan = planResponse(body, sequence);
  if (body.stream === true) writeResponsesEventStream(response, responseEvents(plan), headers);
  else sendJson(response, 200, responseObject(plan, true), headers);
}
