import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { fromCohereChatResponse, mapCohereFinishReason, readCohereUsage } from './chat-response.js';
import type { CohereChatResponse } from './wire-types.js';

const identity = { model: 'command-a-03-2025', requestId: 'req-1', now: () => 1_700_000_000_500 };

function fixture(name: string): CohereChatResponse {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as CohereChatResponse;
}

describe('fromCohereChatResponse', () => {
  it('translates the documented text reply, preferring usage.tokens over billed_units', () => {
    const { completion, usage } = fromCohereChatResponse(fixture('chat-response-text.json'), identity);
    expect(completion).toMatchObject({
      id: 'chatcmpl-c14c80c3-18eb-4519-9460-6c92edd8cfb4',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'command-a-03-2025',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
      usage: { prompt_tokens: 71, completion_tokens: 23, total_tokens: 94 },
    });
    expect(completion.choices[0]!.message.content).toMatch(/^LLMs stand for Large Language Models/);
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined();
    expect(usage).toEqual({ inputTokens: 71, outputTokens: 23, cachedInputTokens: 0 });
  });

  it('translates a tool-call reply, carrying the tool plan as content', () => {
    const { completion } = fromCohereChatResponse(fixture('chat-response-tool-call.json'), identity);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('I will look up the weather in Toronto.');
    expect(choice.message.tool_calls).toEqual([
      { id: 'get_weather_1byjy32y4hvq', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Toronto"}' } },
    ]);
  });

  it('leaves content null for tool calls without a plan and keeps thinking as reasoning_content', () => {
    const body = fixture('chat-response-tool-call.json');
    delete body.message.tool_plan;
    expect(fromCohereChatResponse(body, identity).completion.choices[0]!.message.content).toBeNull();

    const thinking = fixture('chat-response-text.json');
    thinking.message.content = [{ type: 'thinking', thinking: 'Consider.' }, { type: 'text', text: 'Answer.' }];
    const message = fromCohereChatResponse(thinking, identity).completion.choices[0]!.message;
    expect(message).toMatchObject({ content: 'Answer.', reasoning_content: 'Consider.' });
  });

  it('throws upstream errors for ERROR and TIMEOUT finishes', () => {
    for (const [reason, status] of [['ERROR', 502], ['TIMEOUT', 504]] as const) {
      const body = { ...fixture('chat-response-text.json'), finish_reason: reason };
      try {
        fromCohereChatResponse(body, identity);
        throw new Error('expected an error');
      } catch (error) {
        expect(isGatewayError(error) && error.status).toBe(status);
        expect(isGatewayError(error) && error.upstream).toBe(true);
      }
    }
  });
});

describe('mapCohereFinishReason', () => {
  it('maps every documented reason', () => {
    expect(mapCohereFinishReason('COMPLETE')).toBe('stop');
    expect(mapCohereFinishReason('STOP_SEQUENCE')).toBe('stop');
    expect(mapCohereFinishReason('MAX_TOKENS')).toBe('length');
    expect(mapCohereFinishReason('TOOL_CALL')).toBe('tool_calls');
    expect(mapCohereFinishReason('SOMETHING_NEW')).toBe('stop');
  });
});

describe('readCohereUsage', () => {
  it('falls back to billed_units and reports nothing when neither is present', () => {
    expect(readCohereUsage({ billed_units: { input_tokens: 5, output_tokens: 9 } })).toEqual({ inputTokens: 5, outputTokens: 9, cachedInputTokens: 0 });
    expect(readCohereUsage({ tokens: { input_tokens: 3 }, billed_units: { output_tokens: 4 }, cached_tokens: 2 })).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      cachedInputTokens: 2,
    });
    expect(readCohereUsage({})).toBeUndefined();
    expect(readCohereUsage(undefined)).toBeUndefined();
  });
});
