/**
 * Decoder for `:streamGenerateContent?alt=sse`: plain `data: <GenerateContentResponse>` records, no event
 * names, no [DONE]. Each record holds only the new parts; function calls arrive whole; the finishReason is on
 * the last record of a candidate and usageMetadata on the last record overall, which the decoder turns into a
 * closing usage-only chunk.
 */
import { createSseReader } from '../sse-reader.js';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason, ToolCallDelta } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { completionId, generateContentShapeProblem, geminiUsageToTokenUsage, mapFinishReason } from './generate-content-to-chat-completion.js';
import { findGoogleError, googleErrorToUpstreamError } from './google-error.js';
import { generateToolCallId } from './tool-call-id.js';
import type { GeminiCandidate, GeminiUsageMetadata, GenerateContentResponse } from './types.js';

export interface GeminiStreamOptions {
  /** The model name reported to the client. */
  model: string;
  now: () => number;
  /** Values that must never appear in an error message (the key's secret). */
  secrets?: readonly (string | undefined)[];
}

interface CandidateState {
  nextToolIndex: number;
  finished: boolean;
}

/** Creates a decoder for one streamed attempt. */
export function createGeminiStreamDecoder(options: GeminiStreamOptions): StreamDecoder {
  const created = Math.floor(options.now() / 1000);
  const candidates = new Map<number, CandidateState>();
  let id: string | undefined;
  let usageMetadata: GeminiUsageMetadata | undefined;
  let records = 0;
  let stopped = false;
  let events: StreamEvent[] = [];

  const reader = createSseReader((message) => {
    if (stopped) return;
    handleRecord(message.data);
  });

  function chunk(choice: ChatCompletionChunkChoice): StreamEvent {
    const value: ChatCompletionChunk = {
      id: id ?? completionId(undefined),
      object: 'chat.completion.chunk',
      created,
      model: options.model,
      choices: [choice],
    };
    return { kind: 'chunk', chunk: value };
  }

  function fail(status: number, type: string, code: string, message: string): void {
    events.push({ kind: 'error', error: { status, type, code, message } });
    stopped = true;
  }

  function stateFor(index: number): CandidateState {
    let state = candidates.get(index);
    if (!state) {
      state = { nextToolIndex: 0, finished: false };
      candidates.set(index, state);
      events.push(chunk({ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }));
    }
    return state;
  }

  function finishCandidate(index: number, reason: FinishReason): void {
    const state = stateFor(index);
    if (state.finished) return;
    state.finished = true;
    events.push(chunk({ index, delta: {}, finish_reason: reason, logprobs: null }));
  }

  function handleCandidate(candidate: GeminiCandidate, position: number): void {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    const state = stateFor(index);
    let pendingText = '';
    let pendingThoughts = '';
    const flushText = (): void => {
      if (pendingThoughts) events.push(chunk({ index, delta: { reasoning_content: pendingThoughts }, finish_reason: null, logprobs: null }));
      if (pendingText) events.push(chunk({ index, delta: { content: pendingText }, finish_reason: null, logprobs: null }));
      pendingText = '';
      pendingThoughts = '';
    };
    let calls: ToolCallDelta[] = [];
    const flushCalls = (): void => {
      if (calls.length > 0) events.push(chunk({ index, delta: { tool_calls: calls }, finish_reason: null, logprobs: null }));
      calls = [];
    };
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) {
        flushText();
        // Gemini sends each call whole, so header and complete arguments go out in one delta.
        calls.push({
          index: state.nextToolIndex++,
          id: generateToolCallId(part.thoughtSignature),
          type: 'function',
          function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        });
      } else if (typeof part.text === 'string' && part.text.length > 0) {
        flushCalls();
        if (part.thought === true) pendingThoughts += part.text;
        else pendingText += part.text;
      }
    }
    flushText();
    flushCalls();
    const reason = mapFinishReason(candidate.finishReason, state.nextToolIndex > 0);
    if (reason) finishCandidate(index, reason);
  }

  function handleRecord(data: string): void {
    let record: GenerateContentResponse;
    try {
      record = JSON.parse(data) as GenerateContentResponse;
    } catch {
      fail(502, 'upstream_error', 'upstream_error', 'The upstream sent a malformed stream record.');
      return;
    }
    if (findGoogleError(record)) {
      const error = googleErrorToUpstreamError(record, 0, { now: options.now(), secrets: options.secrets ?? [] });
      events.push({ kind: 'error', error });
      stopped = true;
      return;
    }
    const problem = generateContentShapeProblem(record);
    if (problem !== undefined) {
      fail(502, 'upstream_error', 'upstream_invalid_stream', `The upstream sent a stream record Tollgate cannot read: ${problem}.`);
      return;
    }
    records += 1;
    id ??= completionId(record.responseId);
    if (record.usageMetadata) usageMetadata = record.usageMetadata;
    const list = record.candidates ?? [];
    list.forEach(handleCandidate);
    if (list.length === 0 && record.promptFeedback?.blockReason) finishCandidate(0, 'content_filter');
  }

  function take(): StreamEvent[] {
    const out = events;
    events = [];
    return out;
  }

  return {
    push(data: Uint8Array): StreamEvent[] {
      if (!stopped) reader.feed(data);
      return take();
    },
    finish(): StreamEvent[] {
      if (!stopped) reader.end();
      if (!stopped) {
        const unfinished = records === 0 || [...candidates.values()].some((state) => !state.finished) || candidates.size === 0;
        if (unfinished) fail(502, 'upstream_error', 'upstream_stream_incomplete', 'The upstream stream ended before the response was complete.');
      }
      const usage = geminiUsageToTokenUsage(usageMetadata);
      if (!stopped && usage) {
        // Like an OpenAI upstream asked for include_usage: a last chunk with `choices: []`; the core forwards it
        // only to clients that asked (stream_options.include_usage).
        events.push({ kind: 'chunk', chunk: { id: id ?? completionId(undefined), object: 'chat.completion.chunk', created, model: options.model, choices: [], usage: toOpenAIUsage(usage) } });
      }
      return take();
    },
    usage(): TokenUsage | undefined {
      return geminiUsageToTokenUsage(usageMetadata);
    },
  };
}
