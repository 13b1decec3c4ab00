/**
 * Decodes a ConverseStream reply (`application/vnd.amazon.eventstream` binary frames) into OpenAI chunks.
 */
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { BedrockEventStreamReader, brokenStream } from './event-stream-reader.js';
import { completionId, toFinishReason, toTokenUsage } from './converse-response.js';
import type { ConverseUsage } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';
import { isAbsentOrText, isRecord } from '../../spec/json-value.js';

type Delta = ChatCompletionChunkChoice['delta'];

/** Creates the decoder for one ConverseStream attempt. */
export function createConverseStreamDecoder(context: ProviderContext): StreamDecoder {
  return new ConverseStreamDecoder(context);
}

class ConverseStreamDecoder implements StreamDecoder {
  private readonly reader = new BedrockEventStreamReader();
  private readonly id: string;
  private readonly created: number;
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
    if (this.ended) return [];
    const events: StreamEvent[] = [];
    for (const item of this.reader.push(data)) {
      if (item.kind === 'error') {
        events.push(this.end(item.error));
        break;
      }
      events.push(...this.handleEvent(item.type, item.payload));
      if (this.ended) break;
    }
    return events;
  }

  finish(): StreamEvent[] {
    if (this.ended) return [];
    const broken = this.reader.finish();
    if (broken !== undefined) return [this.end(broken)];
    if (!this.stopped) return [this.fail('The Bedrock stream ended before the message was complete.')];
    this.ended = true;
    return [];
  }

  usage(): TokenUsage | undefined {
    return this.reported;
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
    return this.end(brokenStream(message));
  }

  private end(error: UpstreamError): StreamEvent {
    this.ended = true;
    return { kind: 'error', error };
  }
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
