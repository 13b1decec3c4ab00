import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateContentToChatCompletion, geminiUsageToTokenUsage, mapFinishReason } from './generate-content-to-chat-completion.js';
import { readThoughtSignature } from './tool-call-id.js';
import type { GenerateContentResponse } from './types.js';

function fixture(name: string): GenerateContentResponse {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as GenerateContentResponse;
}

const now = 1_700_000_000_123;

describe('generateContentToChatCompletion', () => {
  it('joins text parts and reports usage', () => {
    const { completion, usage } = generateContentToChatCompletion(fixture('generate-content-text.json'), { model: 'gemini-2.0-flash', now });
    expect(completion).toEqual({
      id: 'chatcmpl-mP1haNKjG9CpnvgPp4T3iAs',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-2.0-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'AI learns patterns from data to make predictions.' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 8, completion_tokens: 9, total_tokens: 17, prompt_tokens_details: { cached_tokens: 0 } },
    });
    expect(usage).toEqual({ inputTokens: 8, outputTokens: 9, cachedInputTokens: 0 });
  });

  it('turns function calls into tool_calls with gateway ids and finish_reason tool_calls', () => {
    const { completion, usage } = generateContentToChatCompletion(fixture('generate-content-function-call.json'), { model: 'm', now });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const calls = choice?.message.tool_calls ?? [];
    expect(calls.map((call) => call.function)).toEqual([
      { name: 'set_light_values', arguments: '{"brightness":25,"color_temp":"warm"}' },
      { name: 'get_weather', arguments: '{"location":"Paris"}' },
    ]);
    expect(calls.every((call) => call.id.startsWith('call_') && call.type === 'function')).toBe(true);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);
    expect(readThoughtSignature(calls[0]?.id)).toBe('CiQB0e2Kb7xQ+sig/AAA=');
    expect(readThoughtSignature(calls[1]?.id)).toBeUndefined();
    expect(usage).toEqual({ inputTokens: 120, outputTokens: 70, cachedInputTokens: 0, reasoningTokens: 40 });
    expect(completion.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 40 });
  });

  it('keeps thoughts out of content, maps MAX_TOKENS to length, and counts cached and tool-use prompt tokens', () => {
    const { completion, usage } = generateContentToChatCompletion(fixture('generate-content-thinking-cached.json'), { model: 'm', now });
    expect(completion.choices[0]?.message.content).toBe("Occam's razor prefers the simplest explanation.");
    expect(completion.choices[0]?.message.reasoning_content).toContain('Weighing the options');
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(usage).toEqual({ inputTokens: 2104, outputTokens: 160, cachedInputTokens: 2048, reasoningTokens: 150 });
    expect(completion.usage).toMatchObject({ prompt_tokens: 2104, completion_tokens: 160, total_tokens: 2264, prompt_tokens_details: { cached_tokens: 2048 } });
  });

  it('reports a blocked prompt as an empty content_filter choice', () => {
    const { completion } = generateContentToChatCompletion(fixture('generate-content-prompt-blocked.json'), { model: 'm', now });
    expect(completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null }]);
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
  });
});

describe('mapFinishReason', () => {
  it('follows the reference table', () => {
    expect(mapFinishReason('STOP', false)).toBe('stop');
    expect(mapFinishReason('STOP', true)).toBe('tool_calls');
    expect(mapFinishReason('MAX_TOKENS', true)).toBe('length');
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) {
      expect(mapFinishReason(reason, false)).toBe('content_filter');
    }
    for (const reason of ['MALFORMED_FUNCTION_CALL', 'OTHER', 'LANGUAGE', 'FINISH_REASON_UNSPECIFIED', 'SOMETHING_NEW']) {
      expect(mapFinishReason(reason, false)).toBe('stop');
    }
    expect(mapFinishReason(undefined, false)).toBeNull();
  });
});

describe('geminiUsageToTokenUsage', () => {
  it('is undefined without usage metadata and tolerates missing counts', () => {
    expect(geminiUsageToTokenUsage(undefined)).toBeUndefined();
    expect(geminiUsageToTokenUsage({ promptTokenCount: 3 })).toEqual({ inputTokens: 3, outputTokens: 0, cachedInputTokens: 0 });
  });
});
