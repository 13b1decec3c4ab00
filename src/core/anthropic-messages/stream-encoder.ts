/**
 * OpenAI chunks (from whichever provider answered) → Anthropic Messages SSE, for Tollgate's `POST /v1/messages`.
 * Produces the event sequence Anthropic's SDKs accumulate: `message_start`, `ping`, per content block
 * `content_block_start` / `content_block_delta`* / `content_block_stop` with consecutive indexes, then
 * `message_delta` (stop reason and usage) and `message_stop`; or an `error` event.
 */
import type { AnthropicMessage, AnthropicResponseBlock } from '../../spec/anthropic.js';
import type { ChatCompletionChunk, ToolCallDelta } from '../../spec/openai.js';
import type { TokenUsage } from '../../spec/usage.js';
import { stopReasonFromFinishReason } from '../../providers/anthropic-format/stop-reason.js';
import { anthropicErrorType } from './error-body.js';
import { messageIdFor, tokenUsageToAnthropicUsage } from './response.js';
import { isRecord } from '../../spec/json-value.js';
import { readChunk } from '../inference/chunk-reading.js';

export interface MessagesStreamEncoderOptions {
  /** The model named to the client (as it sent it). */
  model: string;
  /** The `msg_…` id of the message when the upstream's chunks carry none (else it is theirs, as `messageIdFor` makes it). */
  messageId: string;
  /**
   * The usage the upstream has reported so far, read when `message_start` is written: Claude upstreams report the
   * prompt's tokens at their own start, which clients reading `message_start` expect; others only at the end.
   */
  usageSoFar?: () => TokenUsage | undefined;
}

/** Each method returns SSE text ready to write (`event: <name>\ndata: <json>\n\n`, possibly several events). */
export interface MessagesStreamEncoder {
  push(chunk: ChatCompletionChunk): string;
  /** Closes the message: `message_delta` with the stop reason and usage, then `message_stop`. */
  finish(usage: TokenUsage | undefined): string;
  /** Ends the stream with an `error` event; the SDK throws an APIError carrying it. */
  fail(error: { type: string; message: string }): string;
}

type OpenBlock = { kind: 'text' | 'thinking' | 'tool'; index: number };

/** The kinds of `content_block_delta`, each with the name of its one text member. */
const deltaMembers = { text_delta: 'text', thinking_delta: 'thinking', signature_delta: 'signature', input_json_delta: 'partial_json' } as const;
type DeltaType = keyof typeof deltaMembers;

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Creates the encoder for one streamed reply. Nothing is written before the first chunk, so an upstream that
 * fails before answering can still be reported as an HTTP error. Tool calls are matched by their OpenAI
 * `index`; a call whose fragments keep coming after another started still lands in its own block.
 */
export function createMessagesStreamEncoder(options: MessagesStreamEncoderOptions): MessagesStreamEncoder {
  const toolBlocks = new Map<number, number>();
  let started = false;
  let ended = false;
  let nextIndex = 0;
  let open: OpenBlock | undefined;
  let finishReason: string | null = null;
  let reportedUsage: TokenUsage | undefined;

  const start = (first?: ChatCompletionChunk): string => {
    if (started) return '';
    started = true;
    // The upstream's id, as a non-streamed answer gives it, so that a message can be traced to the upstream's logs.
    const upstreamId = first?.id;
    const message: AnthropicMessage = {
      id: typeof upstreamId === 'string' && upstreamId !== '' ? messageIdFor(upstreamId) : options.messageId,
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: tokenUsageToAnthropicUsage(options.usageSoFar?.()),
    };
    return event('message_start', { type: 'message_start', message }) + event('ping', { type: 'ping' });
  };

  const closeBlock = (): string => {
    if (open === undefined) return '';
    const text = event('content_block_stop', { type: 'content_block_stop', index: open.index });
    open = undefined;
    return text;
  };

  const openBlock = (kind: OpenBlock['kind'], block: AnthropicResponseBlock): { text: string; index: number } => {
    const closed = closeBlock();
    const index = nextIndex++;
    open = { kind, index };
    return { text: closed + event('content_block_start', { type: 'content_block_start', index, content_block: block }), index };
  };

  /**
   * A `content_block_delta` event. Every delta has one text member besides its type, and most of a stream's events are
   * deltas, so the event is written as text with only that value serialised: building its two objects and serialising
   * them whole cost about six times as much, once per chunk. It is the same text `event` would write.
   */
  const delta = (index: number, type: DeltaType, value: string): string =>
    `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${type}","${deltaMembers[type]}":${JSON.stringify(value)}}}\n\n`;

  const encodeDelta = (chunkDelta: ChatCompletionChunk['choices'][number]['delta']): string => {
    let out = '';
    const reasoning = chunkDelta.reasoning_content;
    if (typeof reasoning === 'string' && reasoning !== '') {
      if (open?.kind !== 'thinking') out += openBlock('thinking', { type: 'thinking', thinking: '', signature: '' }).text;
      out += delta(open!.index, 'thinking_delta', reasoning);
    }
    const signature = chunkDelta.reasoning_signature;
    if (typeof signature === 'string' && open?.kind === 'thinking') out += delta(open.index, 'signature_delta', signature);
    if (Array.isArray(chunkDelta.thinking_blocks)) {
      for (const item of chunkDelta.thinking_blocks) {
        const record = item as Record<string, unknown> | null;
        if (record?.type !== 'redacted_thinking' || typeof record.data !== 'string') continue;
        out += openBlock('thinking', { type: 'redacted_thinking', data: record.data }).text + closeBlock();
      }
    }
    // A refusal is what the model said instead of an answer; Anthropic clients read it as text.
    const content = typeof chunkDelta.content === 'string' && chunkDelta.content !== '' ? chunkDelta.content : chunkDelta.refusal;
    if (typeof content === 'string' && content !== '') {
      if (open?.kind !== 'text') out += openBlock('text', { type: 'text', text: '' }).text;
      out += delta(open!.index, 'text_delta', content);
    }
    const calls: unknown[] = Array.isArray(chunkDelta.tool_calls) ? chunkDelta.tool_calls : [];
    for (const item of calls) {
      // Adapters check the chunks they read; a chunk forwarded from an OpenAI-compatible upstream is read here too.
      if (!isRecord(item)) continue;
      const call = item as Partial<ToolCallDelta>;
      const called = isRecord(call.function) ? call.function : {};
      const callIndex = typeof call.index === 'number' ? call.index : 0;
      let index = toolBlocks.get(callIndex);
      if (index === undefined) {
        const opened = openBlock('tool', {
          type: 'tool_use',
          id: typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${options.messageId}_${callIndex}`,
          name: typeof called.name === 'string' ? called.name : '',
          input: {},
        });
        out += opened.text;
        index = opened.index;
        toolBlocks.set(callIndex, index);
      }
      const fragment = called.arguments;
      if (typeof fragment === 'string' && fragment !== '') out += delta(index, 'input_json_delta', fragment);
    }
    return out;
  };

  return {
    push(chunk) {
      if (ended) return '';
      let out = start(chunk);
      const reading = readChunk(chunk);
      if (reading.usageReported) reportedUsage = reading.usage;
      if (reading.delta !== undefined) out += encodeDelta(reading.delta);
      if (reading.finishReason !== undefined) finishReason = reading.finishReason;
      return out;
    },
    finish(usage) {
      if (ended) return '';
      ended = true;
      let out = start() + closeBlock();
      const total = usage ?? reportedUsage;
      const anthropicUsage = tokenUsageToAnthropicUsage(total);
      let stopReason = stopReasonFromFinishReason(finishReason);
      // Some providers say "stop" after tool calls; Anthropic clients loop on tool_use, so say that.
      if (stopReason === 'end_turn' && toolBlocks.size > 0) stopReason = 'tool_use';
      out += event('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: anthropicUsage,
      });
      out += event('message_stop', { type: 'message_stop' });
      return out;
    },
    fail(error) {
      if (ended) return '';
      ended = true;
      return event('error', { type: 'error', error: { type: anthropicErrorType(error.type), message: error.message } });
    },
  };
}
