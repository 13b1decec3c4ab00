/**
 * Decodes a ConverseStream reply (`application/vnd.amazon.eventstream` binary frames) into OpenAI chunks.
 */
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { mapBedrockError } from './bedrock-errors.js';
import { completionId, toFinishReason, toTokenUsage } from './converse-response.js';
import type { ConverseUsage } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';
import { isAbsentOrText, isRecord } from '../../spec/json-value.js';

/** A frame's prelude: total length, headers length, prelude CRC. */
const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC: the smallest possible frame. */
const MINIMUM_FRAME_BYTES = 16;
/** Bedrock frames are small; a larger length means the bytes are not an event stream. */
const MAXIMUM_FRAME_BYTES = 16 * 1024 * 1024;

type Delta = ChatCompletionChunkChoice['delta'];

/** Creates the decoder for one ConverseStream attempt. */
export function createConverseStreamDecoder(context: ProviderContext): StreamDecoder {
  return new ConverseStreamDecoder(context);
}

class ConverseStreamDecoder implements StreamDecoder {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private readonly id: string;
  private readonly created: number;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  private stopped = false;
  private roleSent = false;
  private reported: TokenUsage | undefined;
  /** Converse numbers content blocks; OpenAI numbers tool calls. */
  private readonly toolIndexByBlock = new Map<number, number>();
  private readonly structuredBlocks = new Set<number>();

  constructor(private readonly context: ProviderContext) {
    this.id = completionId(context);
    this.created = Math.floor(context.now() / 1000);
  }

  push(data: Uint8Array): StreamEvent[] {
    if (this.ended || data.byteLength === 0) return [];
    this.pending = concat(this.pending, data);
    const events: StreamEvent[] = [];
    while (!this.ended && this.pending.byteLength >= PRELUDE_BYTES) {
      const view = new DataView(this.pending.buffer, this.pending.byteOffset, this.pending.byteLength);
      const total = view.getUint32(0, false);
      if (total < MINIMUM_FRAME_BYTES || total > MAXIMUM_FRAME_BYTES) {
        events.push(this.fail(`Bedrock sent an invalid event-stream frame length (${total}).`));
        break;
      }
      if (this.pending.byteLength < total) break;
      const frame = this.pending.subarray(0, total);
      this.pending = this.pending.slice(total);
      let message: Message;
      try {
        message = this.codec.decode(frame);
      } catch {
        events.push(this.fail('Bedrock sent a corrupt event-stream frame (checksum mismatch).'));
        break;
      }
      events.push(...this.handle(message));
    }
    return events;
  }

  finish(): StreamEvent[] {
    if (this.ended) return [];
    if (this.pending.byteLength > 0) return [this.fail('The Bedrock stream ended in the middle of an event-stream frame.')];
    if (!this.stopped) return [this.fail('The Bedrock stream ended before the message was complete.')];
    this.ended = true;
    return [];
  }

  usage(): TokenUsage | undefined {
    return this.reported;
  }

  private handle(message: Message): StreamEvent[] {
    const messageType = stringHeader(message, ':message-type') ?? 'event';
    const text = toUtf8(message.body);
    if (messageType === 'error') {
      const code = stringHeader(message, ':error-code');
      const detail = stringHeader(message, ':error-message') ?? text;
      return [this.end(mapBedrockError(code, 500, detail || 'Bedrock reported a stream error.'))];
    }
    let payload: unknown;
    try {
      payload = text === '' ? {} : JSON.parse(text);
    } catch {
      return [this.fail('Bedrock sent an event whose payload is not JSON.')];
    }
    if (messageType === 'exception') {
      const name = stringHeader(message, ':exception-type');
      const detail = isRecord(payload) && typeof payload.message === 'string' ? payload.message : (name ?? 'Bedrock reported an exception.');
      return [this.end(mapBedrockError(name, 500, detail))];
    }
    // Every ConverseStream event is an object; another payload is a broken stream, not an event to skip.
    if (!isRecord(payload)) return [this.fail('Bedrock sent an event whose payload is not a JSON object.')];
    return this.handleEvent(stringHeader(message, ':event-type'), payload);
  }

  private handleEvent(eventType: string | undefined, payload: Record<string, unknown>): StreamEvent[] {
    switch (eventType) {
      case 'messageStart':
        return this.roleChunk();
      case 'contentBlockStart':
        return this.blockStart(payload);
      case 'contentBlockDelta':
        return this.blockDelta(payload);
      case 'messageStop':
        return this.messageStop(payload);
      case 'metadata':
        return this.metadata(payload);
      default:
        // contentBlockStop and event types added later carry nothing the client needs.
        return [];
    }
  }

  private blockStart(payload: Record<string, unknown>): StreamEvent[] {
    const blockIndex = numberOf(payload.contentBlockIndex);
    const start = isRecord(payload.start) ? payload.start : {};
    const toolUse = start.toolUse;
    if (toolUse === undefined || toolUse === null || blockIndex === undefined) return [];
    if (!isRecord(toolUse) || !isAbsentOrText(toolUse.toolUseId) || !isAbsentOrText(toolUse.name)) {
      return [this.fail('Bedrock sent a toolUse block start whose id or name is not text.')];
    }
    if (toolUse.name === STRUCTURED_OUTPUT_TOOL_NAME) {
      this.structuredBlocks.add(blockIndex);
      return [];
    }
    const index = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(blockIndex, index);
    return this.chunk({
      tool_calls: [{ index, id: (toolUse.toolUseId as string | undefined) ?? '', type: 'function', function: { name: (toolUse.name as string | undefined) ?? '', arguments: '' } }],
    });
  }

  private blockDelta(payload: Record<string, unknown>): StreamEvent[] {
    const blockIndex = numberOf(payload.contentBlockIndex);
    const delta = (isRecord(payload.delta) ? payload.delta : {}) as {
      text?: unknown;
      toolUse?: unknown;
      reasoningContent?: { text?: unknown } | null;
    };
    if (typeof delta.text === 'string') return delta.text === '' ? [] : this.chunk({ content: delta.text });
    if (isRecord(delta.toolUse) && typeof delta.toolUse.input === 'string' && blockIndex !== undefined) {
      const fragment = delta.toolUse.input;
      if (this.structuredBlocks.has(blockIndex)) return fragment === '' ? [] : this.chunk({ content: fragment });
      const index = this.toolIndexByBlock.get(blockIndex);
      if (index === undefined) return [];
      return this.chunk({ tool_calls: [{ index, function: { arguments: fragment } }] });
    }
    if (typeof delta.reasoningContent?.text === 'string' && delta.reasoningContent.text !== '') {
      return this.chunk({ reasoning_content: delta.reasoningContent.text });
    }
    // Reasoning signatures and redacted reasoning have no OpenAI counterpart.
    return [];
  }

  private messageStop(payload: Record<string, unknown>): StreamEvent[] {
    let finishReason: FinishReason = toFinishReason(typeof payload.stopReason === 'string' ? payload.stopReason : undefined);
    if (finishReason === 'tool_calls' && this.toolIndexByBlock.size === 0 && this.structuredBlocks.size > 0) finishReason = 'stop';
    this.stopped = true;
    return this.chunk({}, finishReason);
  }

  /**
   * Usage arrives after messageStop. Like an OpenAI upstream asked for `include_usage`, the decoder then emits a
   * usage chunk (`choices: []`); the core forwards or drops it according to the client's `stream_options`.
   */
  private metadata(payload: Record<string, unknown>): StreamEvent[] {
    if (payload.usage === undefined || payload.usage === null) return [];
    const usage = toTokenUsage(payload.usage as ConverseUsage);
    // A report that cannot be trusted replaces what came before: the stream's usage is then unknown.
    this.reported = usage;
    if (usage === undefined) return [];
    return [{ kind: 'chunk', chunk: { ...this.buildChunk({}, null), choices: [], usage: toOpenAIUsage(usage) } }];
  }

  private roleChunk(): StreamEvent[] {
    if (this.roleSent) return [];
    this.roleSent = true;
    return [{ kind: 'chunk', chunk: this.buildChunk({ role: 'assistant', content: '' }, null) }];
  }

  /** A chunk for the client, preceded by the role chunk when the stream skipped messageStart. */
  private chunk(delta: Delta, finishReason: FinishReason | null = null): StreamEvent[] {
    const events = this.roleChunk();
    events.push({ kind: 'chunk', chunk: this.buildChunk(delta, finishReason) });
    return events;
  }

  private buildChunk(delta: Delta, finishReason: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.context.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
  }

  private fail(message: string): StreamEvent {
    return this.end({ status: 502, type: 'server_error', code: 'upstream_stream_error', message, param: null });
  }

  private end(error: UpstreamError): StreamEvent {
    this.ended = true;
    this.pending = new Uint8Array(0);
    return { kind: 'error', error };
  }
}

function stringHeader(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header !== undefined && header.type === 'string' ? header.value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.byteLength === 0) return second.slice();
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return joined;
}
