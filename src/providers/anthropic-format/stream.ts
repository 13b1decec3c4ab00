/**
 * Anthropic Messages SSE → OpenAI chunks (reference §3). The event machine: `message_start`, then per content
 * block `content_block_start` / `_delta`* / `_stop`, then `message_delta` (stop reason, cumulative usage) and
 * `message_stop`. `ping` may come anywhere, `error` may come after HTTP 200, unknown events are ignored.
 */
import { createSseReader, PendingEvents, sseEventText, type EventSourceMessage } from '../sse-reader.js';
import type { AnthropicMessage, AnthropicUsage } from '../../spec/anthropic.js';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { parseAnthropicStreamError } from './errors.js';
import { anthropicUsageToTokenUsage, isSoundMessage, USAGE_COUNTS } from './response.js';
import { finishReasonFromStopReason } from './stop-reason.js';
import { areCountsWhereGiven, isAbsentOrText, isRecord, isWholeNumber } from '../../spec/json-value.js';

type Delta = ChatCompletionChunkChoice['delta'];

export interface AnthropicStreamDecoderOptions {
  /** The model name written into every chunk. */
  model: string;
  /** Unix seconds, the same in every chunk. */
  created: number;
  /** Used as the chunk id until `message_start` names the message. */
  fallbackId?: string;
  /** Values that must never appear in an error message (the key's secret). */
  secrets?: readonly (string | undefined)[];
  /**
   * The client speaks Anthropic's format (a native request): each event is emitted as its SSE text (`native`)
   * instead of chunks, once read for the usage and checked as in the translation; errors stay `error` events. A
   * stream whose `message_start` could not be forwarded soundly is translated instead (chunks).
   */
  native?: boolean;
}

/** A tool_use block being streamed: its OpenAI tool index, and what it has sent so far. */
interface ToolBlock {
  toolIndex: number;
  initialInput: unknown;
  sentArguments: boolean;
}

/**
 * Why an event may not be forwarded to an Anthropic client as it is (undefined when it may): what Anthropic's SDKs
 * read of it must be there and of its type, since no translation writes it anew. The message of `message_start` is
 * held to what a whole message is (its content still empty), a block event names its block by index and type, and
 * `message_delta` carries counts.
 */
function unforwardable(event: Record<string, unknown>): string | undefined {
  switch (event.type) {
    case 'message_start':
      return isRecord(event.message) && isSoundMessage(event.message as unknown as AnthropicMessage) ? undefined : 'its message is not one';
    case 'content_block_start':
      return isWholeNumber(event.index) && isRecord(event.content_block) && typeof event.content_block.type === 'string' ? undefined : 'its block has no index or type';
    case 'content_block_delta':
      return isWholeNumber(event.index) && isRecord(event.delta) && typeof event.delta.type === 'string' ? undefined : 'its delta has no index or type';
    case 'content_block_stop':
      return isWholeNumber(event.index) ? undefined : 'it names no block';
    case 'message_delta': {
      const usage = event.usage;
      if (!isRecord(usage) || !isRecord(event.delta)) return 'it has no usage or delta';
      return areCountsWhereGiven(usage, USAGE_COUNTS) ? undefined : 'its usage holds something other than counts';
    }
    default:
      return undefined;
  }
}

function malformed(message: string): UpstreamError {
  return { status: 502, type: 'server_error', code: 'upstream_invalid_stream', message };
}

/**
 * A decoder of Anthropic's events that may also take them one by one, as JSON text, from a stream that wraps them in
 * frames of its own (Bedrock's InvokeModelWithResponseStream) rather than in SSE.
 */
export interface AnthropicStreamDecoder extends StreamDecoder {
  /** Takes one event's JSON text (named by its `type`); returns what it decodes to. */
  pushEvent(data: string): StreamEvent[];
}

/**
 * Creates the decoder for one streamed attempt. Bytes may be split anywhere, including inside a UTF-8
 * character. Like an OpenAI upstream asked for `include_usage`, it ends with a usage chunk (`choices: []`) at
 * `message_stop`; the core forwards or drops it according to the client's `stream_options`. Thinking text is
 * emitted as the non-standard `reasoning_content`, its signature as `reasoning_signature`, and redacted
 * thinking as `thinking_blocks`, so Tollgate's /v1/messages can hand them back to Anthropic clients.
 */
export function createAnthropicStreamDecoder(options: AnthropicStreamDecoderOptions): AnthropicStreamDecoder {
  const toolBlocks = new Map<number, ToolBlock>();
  const pending = new PendingEvents();
  let id = options.fallbackId ?? 'msg_unknown';
  let started = false;
  let stopped = false;
  let failed = false;
  let nextToolIndex = 0;
  let usage: Partial<AnthropicUsage> | undefined;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: options.created,
    model: options.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });

  let native = options.native === true;
  const emit = (delta: Delta, finishReason: FinishReason | null = null): void => {
    if (native) return;
    pending.push({ kind: 'chunk', chunk: chunk(delta, finishReason) });
  };

  const fail = (error: UpstreamError): void => {
    failed = true;
    pending.push({ kind: 'error', error });
  };

  const mergeUsage = (update: unknown): void => {
    if (!isRecord(update)) return;
    // message_delta repeats the totals (cumulative, not increments); a null means "not reported", keep what we had.
    // Anything else is kept as sent: a count that is not one makes the usage unknown (see anthropicUsageToTokenUsage)
    // instead of leaving an earlier, smaller count in its place.
    const next: Partial<AnthropicUsage> = { ...usage };
    for (const field of USAGE_COUNTS) {
      const value = update[field];
      if (value !== undefined && value !== null) next[field] = value as number;
    }
    if (update.cache_creation !== undefined && update.cache_creation !== null) next.cache_creation = update.cache_creation as AnthropicUsage['cache_creation'];
    usage = next;
  };

  const onMessageStart = (message: unknown): void => {
    if (started) return;
    started = true;
    if (isRecord(message)) {
      const start = message as Partial<AnthropicMessage>;
      if (typeof start.id === 'string' && start.id !== '') id = start.id;
      mergeUsage(start.usage);
    }
    emit({ role: 'assistant', content: '' });
  };

  const onBlockStart = (index: number, block: Record<string, unknown>): void => {
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string' && block.text !== '') emit({ content: block.text });
        return;
      case 'tool_use': {
        // A Messages-compatible server may leave the id out; one that is there but not text is a broken event.
        if (!isAbsentOrText(block.id) || !isAbsentOrText(block.name)) {
          fail(malformed('Anthropic sent a tool_use block whose id or name is not text.'));
          return;
        }
        const toolIndex = nextToolIndex++;
        toolBlocks.set(index, { toolIndex, initialInput: block.input, sentArguments: false });
        emit({
          tool_calls: [
            { index: toolIndex, id: String(block.id ?? ''), type: 'function', function: { name: String(block.name ?? ''), arguments: '' } },
          ],
        });
        return;
      }
      case 'thinking':
        if (typeof block.thinking === 'string' && block.thinking !== '') emit({ reasoning_content: block.thinking });
        return;
      case 'redacted_thinking':
        emit({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] });
        return;
      default:
        // Server-tool blocks (server_tool_use, web_search_tool_result, ...) have no OpenAI form.
        return;
    }
  };

  const onBlockDelta = (index: number, delta: Record<string, unknown>): void => {
    switch (delta.type) {
      case 'text_delta':
        if (typeof delta.text === 'string' && delta.text !== '') emit({ content: delta.text });
        return;
      case 'input_json_delta': {
        const tool = toolBlocks.get(index);
        // Deltas of server-tool blocks have no tool index and are dropped.
        if (tool === undefined || typeof delta.partial_json !== 'string' || delta.partial_json === '') return;
        tool.sentArguments = true;
        emit({ tool_calls: [{ index: tool.toolIndex, function: { arguments: delta.partial_json } }] });
        return;
      }
      case 'thinking_delta':
        if (typeof delta.thinking === 'string' && delta.thinking !== '') emit({ reasoning_content: delta.thinking });
        return;
      case 'signature_delta':
        if (typeof delta.signature === 'string') emit({ reasoning_signature: delta.signature });
        return;
      default:
        return;
    }
  };

  const onBlockStop = (index: number): void => {
    const tool = toolBlocks.get(index);
    // Some Messages-compatible servers put the whole input in content_block_start and stream no deltas.
    if (tool === undefined || tool.sentArguments) return;
    if (isRecord(tool.initialInput) && Object.keys(tool.initialInput).length > 0) {
      tool.sentArguments = true;
      emit({ tool_calls: [{ index: tool.toolIndex, function: { arguments: JSON.stringify(tool.initialInput) } }] });
    }
  };

  const interpret = (type: string | undefined, event: Record<string, unknown>): void => {
    if (type === 'error') {
      fail(parseAnthropicStreamError(event, { secrets: options.secrets ?? [] }));
      return;
    }
    if (type === 'message_start') {
      onMessageStart(event.message);
      return;
    }
    if (type === 'ping' || !started) return;
    const index = typeof event.index === 'number' ? event.index : -1;
    switch (type) {
      case 'content_block_start':
        if (isRecord(event.content_block)) onBlockStart(index, event.content_block);
        return;
      case 'content_block_delta':
        if (isRecord(event.delta)) onBlockDelta(index, event.delta);
        return;
      case 'content_block_stop':
        onBlockStop(index);
        return;
      case 'message_delta': {
        mergeUsage(event.usage);
        const delta = isRecord(event.delta) ? event.delta : {};
        if (delta.stop_reason !== undefined && delta.stop_reason !== null) {
          emit({}, finishReasonFromStopReason(String(delta.stop_reason)));
        }
        return;
      }
      case 'message_stop': {
        stopped = true;
        const total = anthropicUsageToTokenUsage(usage);
        if (total !== undefined && !native) {
          pending.push({ kind: 'chunk', chunk: { ...chunk({}), choices: [], usage: toOpenAIUsage(total) } });
        }
        return;
      }
      default:
        return;
    }
  };

  const handle = (message: EventSourceMessage): void => {
    if (failed || stopped || message.data.trim() === '') return;
    let event: unknown;
    try {
      event = JSON.parse(message.data);
    } catch {
      fail(malformed('Anthropic sent a stream event that is not JSON.'));
      return;
    }
    if (!isRecord(event)) return;
    if (native) {
      // A second start would make a client begin its message anew; the translation ignores it, and so does this.
      if (event.type === 'message_start' && started) return;
      // Forwarded events are named by the type their data gives, as Anthropic writes them, so that a client reads
      // each as it was metered; one whose data names no type is not forwarded.
      const problem = typeof event.type === 'string' ? unforwardable(event) : 'it has no type';
      // A stream whose message does not start soundly is translated from there on, as a client of any other
      // provider would get it (nothing but pings has gone out yet); one that goes bad later ends with an error event.
      if (problem !== undefined && event.type === 'message_start' && !started) native = false;
      else if (problem !== undefined) {
        fail(malformed(`Anthropic sent a stream event that cannot be forwarded: ${problem}.`));
        return;
      }
    }
    const type = typeof event.type === 'string' ? event.type : message.event;
    interpret(type, event);
    if (native && !failed && type !== undefined) pending.push({ kind: 'native', text: sseEventText(type, message.data) });
  };

  const reader = createSseReader(handle);

  return {
    push(data: Uint8Array): StreamEvent[] {
      reader.feed(data);
      return pending.take();
    },
    pushEvent(data: string): StreamEvent[] {
      handle({ data, event: undefined, id: undefined });
      return pending.take();
    },
    finish(): StreamEvent[] {
      reader.end();
      if (!failed && !stopped) {
        fail(
          malformed(started ? 'The Anthropic stream ended before message_stop.' : 'The Anthropic stream ended without sending a message.'),
        );
      }
      return pending.take();
    },
    usage(): TokenUsage | undefined {
      return anthropicUsageToTokenUsage(usage);
    },
  };
}
