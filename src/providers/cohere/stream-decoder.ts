/**
 * Cohere v2 chat stream → OpenAI chunks. Cohere sends named SSE events whose JSON repeats the name in `type`:
 * message-start, content-start/-delta/-end, tool-plan-delta, tool-call-start/-delta/-end, citation-start/-end,
 * message-end (finish reason, usage, error). There is no `[DONE]`; one is ignored if a proxy adds it.
 */
import { createSseReader, PendingEvents, type EventSourceMessage } from '../sse-reader.js';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { completionId, finishFailure, mapCohereFinishReason, readCohereUsage } from './chat-response.js';
import type { CohereStreamEvent } from './wire-types.js';
import { isAbsentOrText, isRecord } from '../../spec/json-value.js';

type Delta = ChatCompletionChunkChoice['delta'];

/**
 * Creates the decoder for one streamed Cohere attempt. Like an OpenAI upstream asked for `include_usage`, it ends
 * with a usage chunk (`choices: []`) after the finish chunk when message-end reported usage; the core forwards
 * or drops it according to the client's `stream_options`.
 */
export function createCohereStreamDecoder(context: Pick<ProviderContext, 'model' | 'requestId' | 'now'>): StreamDecoder {
  const created = Math.floor(context.now() / 1000);
  let id = completionId(undefined, context.requestId);
  let roleSent = false;
  let ended = false;
  let toolIndex = -1;
  let usage: TokenUsage | undefined;
  const pending = new PendingEvents();

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): StreamEvent => {
    const value: ChatCompletionChunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: context.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
    return { kind: 'chunk', chunk: value };
  };

  const usageChunk = (value: TokenUsage): StreamEvent => ({
    kind: 'chunk',
    chunk: { id, object: 'chat.completion.chunk', created, model: context.model, choices: [], usage: toOpenAIUsage(value) },
  });

  const emit = (delta: Delta): void => {
    if (!roleSent) {
      roleSent = true;
      pending.push(chunk({ role: 'assistant', content: '' }));
    }
    pending.push(chunk(delta));
  };

  const fail = (error: UpstreamError): void => {
    ended = true;
    pending.push({ kind: 'error', error });
  };

  const handle = (message: EventSourceMessage): void => {
    if (ended || message.data.trim() === '' || message.data.trim() === '[DONE]') return;
    let event: CohereStreamEvent;
    try {
      event = JSON.parse(message.data) as CohereStreamEvent;
    } catch {
      fail(streamError('Cohere sent a stream event that is not JSON.', 'upstream_invalid_stream'));
      return;
    }
    // Every Cohere event is an object; anything else carries nothing to relay (a stream of nothing else ends
    // without its message-end, which is reported).
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return;
    const type = typeof event.type === 'string' ? event.type : message.event;
    const delta = event.delta?.message;
    switch (type) {
      case 'message-start': {
        if (typeof event.id === 'string' && event.id !== '' && !roleSent) id = completionId(event.id, context.requestId);
        if (!roleSent) {
          roleSent = true;
          pending.push(chunk({ role: 'assistant', content: '' }));
        }
        return;
      }
      case 'content-delta': {
        const content = delta?.content;
        if (!content || Array.isArray(content)) return;
        if (typeof content.text === 'string' && content.text !== '') emit({ content: content.text });
        if (typeof content.thinking === 'string' && content.thinking !== '') emit({ reasoning_content: content.thinking });
        return;
      }
      case 'tool-plan-delta': {
        // The plan is the text written before tool calls; non-streamed replies map it to `content` too.
        if (typeof delta?.tool_plan === 'string' && delta.tool_plan !== '') emit({ content: delta.tool_plan });
        return;
      }
      case 'tool-call-start': {
        const call = delta?.tool_calls;
        if (!isRecord(call)) return;
        const called = isRecord(call.function) ? call.function : {};
        if (!isAbsentOrText(call.id) || !isAbsentOrText(called.name) || !isAbsentOrText(called.arguments)) {
          fail(streamError('Cohere sent a tool call whose id, name or arguments are not text.', 'upstream_invalid_stream'));
          return;
        }
        toolIndex += 1;
        emit({
          tool_calls: [
            {
              index: toolIndex,
              id: (call.id as string | null | undefined) ?? `call_${toolIndex}`,
              type: 'function',
              function: { name: (called.name as string | null | undefined) ?? '', arguments: (called.arguments as string | null | undefined) ?? '' },
            },
          ],
        });
        return;
      }
      case 'tool-call-delta': {
        const call = delta?.tool_calls;
        if (!isRecord(call) || toolIndex < 0) return;
        const fragment = isRecord(call.function) ? call.function.arguments : undefined;
        if (typeof fragment === 'string' && fragment !== '') {
          emit({ tool_calls: [{ index: toolIndex, function: { arguments: fragment } }] });
        }
        return;
      }
      case 'message-end': {
        const end = isRecord(event.delta) ? (event.delta as NonNullable<CohereStreamEvent['delta']>) : {};
        // A report that cannot be trusted replaces what came before: the stream's usage is then unknown.
        if (end.usage !== undefined && end.usage !== null) usage = readCohereUsage(end.usage);
        const failure = finishFailure(end.finish_reason, end.error);
        if (failure) {
          fail({ status: failure.status, type: failure.type, code: failure.code, message: failure.message });
          return;
        }
        if (end.finish_reason === undefined && typeof end.error === 'string' && end.error !== '') {
          fail(streamError(end.error, 'upstream_generation_error'));
          return;
        }
        if (!roleSent) {
          roleSent = true;
          pending.push(chunk({ role: 'assistant', content: '' }));
        }
        ended = true;
        pending.push(chunk({}, mapCohereFinishReason(end.finish_reason)));
        if (usage) pending.push(usageChunk(usage));
        return;
      }
      default:
        // content-start/-end, tool-call-end and citation events carry nothing an OpenAI chunk can express.
        return;
    }
  };

  const reader = createSseReader(handle);

  return {
    push(data: Uint8Array): StreamEvent[] {
      if (!ended) reader.feed(data);
      return pending.take();
    },
    finish(): StreamEvent[] {
      if (!ended) {
        reader.end();
      }
      if (!ended) fail(streamError('The Cohere stream ended before its message-end event.', 'upstream_stream_incomplete'));
      return pending.take();
    },
    usage: () => usage,
  };
}

function streamError(message: string, code: string): UpstreamError {
  return { status: 502, type: 'server_error', code, message };
}
