/**
 * OpenAI chunks (from whichever provider answered) → OpenAI Responses API SSE, for Tollgate's `POST /v1/responses`.
 * Produces the event sequence the official SDKs accumulate: `response.created`, `response.in_progress`, then per
 * output item `response.output_item.added`, its part and delta events, `response.output_item.done`, and finally
 * `response.completed` (or `response.incomplete`) carrying the whole Response; or an `error` event.
 */
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type {
  ResponseEcho,
  ResponseItemStatus,
  ResponseMessagePart,
  ResponseOutputItem,
  ResponseStreamEvent,
} from '../../spec/openai-responses.js';
import type { TokenUsage } from '../../spec/usage.js';
import type { Clock } from '../../spec/clock.js';
import { isRecord } from '../../spec/json-value.js';
import { readChunk } from '../inference/chunk-reading.js';
import { buildResponse, customToolCallItem, functionCallItem, incompleteDetailsOf, messageItem, outputItemId, reasoningItem } from './response.js';

export interface ResponsesStreamEncoderOptions {
  /** The `resp_…` id of the response. */
  id: string;
  /** The model named to the client (as it sent it). */
  model: string;
  /** Unix seconds when the request came. */
  createdAt: number;
  echo: ResponseEcho;
  /** Gives `completed_at`. */
  clock: Clock;
}

/** Each method returns SSE text ready to write (`event: <type>\ndata: <json>\n\n`, possibly several events). */
export interface ResponsesStreamEncoder {
  push(chunk: ChatCompletionChunk): string;
  /** Closes the open item, then `response.completed` (or `response.incomplete`) with the whole Response. */
  finish(usage: TokenUsage | undefined): string;
  /** Ends the stream with an `error` event, on which the official SDKs throw an APIError carrying the message. */
  fail(error: { type: string; code?: string; message: string; param?: string | null }): string;
  /**
   * Notes an event the upstream wrote in this format and the relay forwarded (a native stream), so that an error
   * event ending the stream takes the next sequence number.
   */
  forwarded(text: string): void;
}

/** A `sequence_number` member in an event's JSON text (quotes in string values are escaped, so only a key matches). */
const SEQUENCE_NUMBER = /"sequence_number"\s*:\s*(\d+)/g;

type OpenItem =
  | { kind: 'reasoning'; index: number; id: string; text: string }
  | { kind: 'message'; index: number; id: string; parts: ResponseMessagePart[]; partOpen: boolean }
  /** A function call, or with `custom` a custom tool call, whose `arguments` hold its free-form input. */
  | { kind: 'function'; custom: boolean; index: number; id: string; callId: string; name: string; arguments: string };

/** The events that carry one fragment of an item's text ({@link createResponsesStreamEncoder}'s `deltaEvent`). */
type DeltaEventType = Extract<
  ResponseStreamEvent['type'],
  'response.output_text.delta' | 'response.refusal.delta' | 'response.reasoning_text.delta' | 'response.function_call_arguments.delta' | 'response.custom_tool_call_input.delta'
>;

/** An event as built, before the encoder numbers it. */
type Unnumbered<Event> = Event extends unknown ? Omit<Event, 'sequence_number'> : never;

/**
 * Creates the encoder for one streamed reply. Nothing is written before the first chunk, so an upstream that fails
 * before answering can still be reported as an HTTP error. Items are written one after the other, as the API does:
 * a new item closes the open one. Tool calls are matched by their chat `index` (or a new id at a known index).
 */
export function createResponsesStreamEncoder(options: ResponsesStreamEncoderOptions): ResponsesStreamEncoder {
  const clock = options.clock;
  const output: ResponseOutputItem[] = [];
  // Chat tool call index → the output index of its function call item.
  const functionCalls = new Map<number, { outputIndex: number; callId: string }>();
  let sequence = 0;
  let started = false;
  let ended = false;
  let nextIndex = 0;
  let open: OpenItem | undefined;
  let finishReason: string | null = null;
  let reportedUsage: TokenUsage | undefined;

  const emit = (event: Unnumbered<ResponseStreamEvent>): string => {
    const data = { ...event, sequence_number: sequence++ };
    return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  };

  /**
   * A delta event: most of a stream's events are these, one a chunk. Written as text with only the item's id and the
   * delta serialised, members in the order `emit` writes them: building the event's objects and serialising them
   * whole cost several times as much. `contentIndex` is left out for a tool call's deltas, which have none, and the
   * empty `logprobs` is written for output text only.
   */
  const deltaEvent = (type: DeltaEventType, item: { id: string; index: number }, contentIndex: number | undefined, delta: string): string => {
    const where = contentIndex === undefined ? '' : `,"content_index":${contentIndex}`;
    const logprobs = type === 'response.output_text.delta' ? ',"logprobs":[]' : '';
    return `event: ${type}\ndata: {"type":"${type}","item_id":${JSON.stringify(item.id)},"output_index":${item.index}${where},"delta":${JSON.stringify(delta)}${logprobs},"sequence_number":${sequence++}}\n\n`;
  };

  const responseSnapshot = (final: boolean, usage?: TokenUsage) =>
    buildResponse({
      id: options.id,
      model: options.model,
      createdAt: options.createdAt,
      echo: options.echo,
      output: final ? output : [],
      // A stream that ends without a finish reason ended normally as far as anyone can tell.
      finishReason: final ? (finishReason ?? 'stop') : null,
      usage,
      completedAt: Math.floor(clock() / 1000),
    });

  const start = (): string => {
    if (started) return '';
    started = true;
    const response = responseSnapshot(false);
    return emit({ type: 'response.created', response }) + emit({ type: 'response.in_progress', response });
  };

  const closePart = (item: Extract<OpenItem, { kind: 'message' }>): string => {
    const part = item.parts.at(-1);
    if (!item.partOpen || part === undefined) return '';
    item.partOpen = false;
    const where = { item_id: item.id, output_index: item.index, content_index: item.parts.length - 1 };
    const done =
      part.type === 'output_text'
        ? emit({ type: 'response.output_text.done', ...where, text: part.text, logprobs: [] })
        : emit({ type: 'response.refusal.done', ...where, refusal: part.refusal });
    return done + emit({ type: 'response.content_part.done', ...where, part });
  };

  const closeItem = (status: ResponseItemStatus): string => {
    const item = open;
    if (item === undefined) return '';
    open = undefined;
    let out = '';
    let done: ResponseOutputItem;
    if (item.kind === 'reasoning') {
      const where = { item_id: item.id, output_index: item.index, content_index: 0 };
      done = reasoningItem(item.id, item.text);
      out += emit({ type: 'response.reasoning_text.done', ...where, text: item.text });
      out += emit({ type: 'response.content_part.done', ...where, part: { type: 'reasoning_text', text: item.text } });
    } else if (item.kind === 'message') {
      out += closePart(item);
      done = messageItem(item.id, item.parts, status);
    } else if (item.custom) {
      done = customToolCallItem(item.id, { callId: item.callId, name: item.name, input: item.arguments });
      out += emit({ type: 'response.custom_tool_call_input.done', item_id: item.id, output_index: item.index, input: item.arguments });
    } else {
      done = functionCallItem(item.id, item, status);
      out += emit({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: item.index, name: item.name, arguments: item.arguments });
    }
    output[item.index] = done;
    return out + emit({ type: 'response.output_item.done', output_index: item.index, item: done });
  };

  const openItem = (item: OpenItem, added: ResponseOutputItem): string => {
    const out = closeItem('completed');
    open = item;
    return out + emit({ type: 'response.output_item.added', output_index: item.index, item: added });
  };

  const encodeReasoning = (delta: string): string => {
    let out = '';
    if (open?.kind !== 'reasoning') {
      const id = outputItemId('rs');
      const index = nextIndex++;
      out += openItem({ kind: 'reasoning', index, id, text: '' }, { type: 'reasoning', id, summary: [], content: [] });
      out += emit({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    const item = open as Extract<OpenItem, { kind: 'reasoning' }>;
    item.text += delta;
    return out + deltaEvent('response.reasoning_text.delta', item, 0, delta);
  };

  const encodeMessagePart = (kind: ResponseMessagePart['type'], delta: string): string => {
    let out = '';
    if (open?.kind !== 'message') {
      const id = outputItemId('msg');
      out += openItem({ kind: 'message', index: nextIndex++, id, parts: [], partOpen: false }, messageItem(id, [], 'in_progress'));
    }
    const item = open as Extract<OpenItem, { kind: 'message' }>;
    if (!item.partOpen || item.parts.at(-1)?.type !== kind) {
      out += closePart(item);
      const part: ResponseMessagePart = kind === 'output_text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
      item.parts.push(part);
      item.partOpen = true;
      out += emit({ type: 'response.content_part.added', item_id: item.id, output_index: item.index, content_index: item.parts.length - 1, part });
    }
    const contentIndex = item.parts.length - 1;
    const part = item.parts[contentIndex]!;
    if (part.type === 'output_text') {
      part.text += delta;
      return out + deltaEvent('response.output_text.delta', item, contentIndex, delta);
    }
    part.refusal += delta;
    return out + deltaEvent('response.refusal.delta', item, contentIndex, delta);
  };

  /** A fragment of a function call's arguments or of a custom tool call's input, as its delta event. */
  const inputDelta = (item: { id: string; index: number }, custom: boolean, delta: string): string =>
    deltaEvent(custom ? 'response.custom_tool_call_input.delta' : 'response.function_call_arguments.delta', item, undefined, delta);

  const encodeToolCall = (call: Record<string, unknown>): string => {
    // Custom tool calls (OpenAI's free-form tools) stream their input under `custom`, function calls under `function`.
    const custom = call.type === 'custom' || isRecord(call.custom);
    const called: Record<string, unknown> = custom ? (isRecord(call.custom) ? call.custom : {}) : isRecord(call.function) ? call.function : {};
    const callIndex = typeof call.index === 'number' ? call.index : 0;
    const given = custom ? called.input : called.arguments;
    const fragment = typeof given === 'string' ? given : '';
    const newId = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
    const known = functionCalls.get(callIndex);
    // Some upstreams number every call 0; a different id at a known index is a new call all the same.
    if (known !== undefined && (newId === undefined || newId === known.callId)) {
      if (fragment === '') return '';
      if (open?.kind === 'function' && open.index === known.outputIndex) {
        open.arguments += fragment;
        return inputDelta(open, open.custom, fragment);
      }
      // A fragment of a call already closed (another item started since): its done events are out, so it can only
      // complete the call in the final Response.
      const closed = output[known.outputIndex];
      if (closed?.type === 'function_call') closed.arguments += fragment;
      else if (closed?.type === 'custom_tool_call') closed.input += fragment;
      return '';
    }
    const id = outputItemId(custom ? 'ctc' : 'fc');
    const index = nextIndex++;
    const callId = newId ?? outputItemId('call');
    const name = typeof called.name === 'string' ? called.name : '';
    functionCalls.set(callIndex, { outputIndex: index, callId });
    const added = custom ? customToolCallItem(id, { callId, name, input: '' }) : functionCallItem(id, { callId, name, arguments: '' }, 'in_progress');
    let out = openItem({ kind: 'function', custom, index, id, callId, name, arguments: fragment }, added);
    if (fragment !== '') out += inputDelta({ id, index }, custom, fragment);
    return out;
  };

  const encodeDelta = (delta: ChatCompletionChunk['choices'][number]['delta']): string => {
    let out = '';
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') out += encodeReasoning(delta.reasoning_content);
    if (typeof delta.content === 'string' && delta.content !== '') out += encodeMessagePart('output_text', delta.content);
    if (typeof delta.refusal === 'string' && delta.refusal !== '') out += encodeMessagePart('refusal', delta.refusal);
    const calls: unknown[] = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
    for (const call of calls) {
      // Adapters check the chunks they read; a chunk forwarded from an OpenAI-compatible upstream is read here too.
      if (isRecord(call)) out += encodeToolCall(call);
    }
    return out;
  };

  return {
    push(chunk) {
      if (ended) return '';
      let out = start();
      const reading = readChunk(chunk);
      if (reading.usageReported) reportedUsage = reading.usage;
      if (reading.delta !== undefined) out += encodeDelta(reading.delta);
      if (reading.finishReason !== undefined) finishReason = reading.finishReason;
      return out;
    },
    finish(usage) {
      if (ended) return '';
      ended = true;
      const incomplete = incompleteDetailsOf(finishReason) !== undefined;
      let out = start() + closeItem(incomplete ? 'incomplete' : 'completed');
      const response = responseSnapshot(true, usage ?? reportedUsage);
      out += emit({ type: incomplete ? 'response.incomplete' : 'response.completed', response });
      return out;
    },
    forwarded(text) {
      for (const match of text.matchAll(SEQUENCE_NUMBER)) sequence = Math.max(sequence, Number(match[1]) + 1);
    },
    fail(error) {
      if (ended) return '';
      ended = true;
      const code = error.code ?? null;
      const param = error.param ?? null;
      // The SDKs throw on the nested `error` (as the live API sends it) and never need a response.created first;
      // the flat members are there for clients written against the API reference, whose only machine-readable field
      // is `code`, hence the error type standing in for a missing code.
      return emit({
        type: 'error',
        code: code ?? error.type,
        message: error.message,
        param,
        error: { type: error.type, code, message: error.message, param },
      });
    },
  };
}
