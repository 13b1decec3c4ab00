import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProviderContext } from '../../spec/provider.js';
import { fromConverseResponse, toFinishReason, toTokenUsage } from './converse-response.js';
import type { ConverseResponse } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';

const context = {
  model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  requestId: 'req-42',
  now: () => 1_700_000_000_500,
} as ProviderContext;

function fixture(name: string): ConverseResponse {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ConverseResponse;
}

describe('fromConverseResponse', () => {
  it('translates the documented text reply', () => {
    const { completion, usage } = fromConverseResponse(fixture('converse-response-text.json'), context);
    expect(completion).toEqual({
      id: 'chatcmpl-req-42',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content:
              'Here is a list of 3 pop songs by artists from the United Kingdom:\n\n1. "As It Was" by Harry Styles\n2. "Easy On Me" by Adele\n3. "Bad Habits" by Ed Sheeran',
          },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 125, completion_tokens: 60, total_tokens: 185, prompt_tokens_details: { cached_tokens: 0 } },
    });
    expect(usage).toEqual({ inputTokens: 125, outputTokens: 60, cachedInputTokens: 0 });
  });

  it('turns toolUse blocks into tool calls with JSON-string arguments', () => {
    const { completion } = fromConverseResponse(fixture('converse-response-tool-use.json'), context);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("To find the most popular song on WZPZ, I'll use the top_song tool.");
    expect(choice.message.tool_calls).toEqual([
      { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } },
    ]);
  });

  it('adds cache reads and writes to the prompt total and keeps reasoning apart', () => {
    const { completion, usage } = fromConverseResponse(fixture('converse-response-cached-reasoning.json'), context);
    expect(usage).toEqual({ inputTokens: 12 + 1536 + 512, outputTokens: 40, cachedInputTokens: 1536, cacheWriteTokens: 512 });
    expect(completion.usage?.prompt_tokens).toBe(2060);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1536);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.choices[0]?.message.content).toBe('The capital of France is Paris.');
    expect(completion.choices[0]?.message.reasoning_content).toBe('The user asks for the capital of France. That is Paris.');
  });

  it('returns the structured-output tool input as the message content', () => {
    const { completion } = fromConverseResponse(
      {
        output: {
          message: {
            role: 'assistant',
            content: [{ toolUse: { toolUseId: 'tooluse_x', name: STRUCTURED_OUTPUT_TOOL_NAME, input: { city: 'Paris' } } }],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 5, outputTokens: 3, totalTokens: 8 },
      },
      context,
    );
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: '{"city":"Paris"}' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('reports content null only when tool calls carry the answer', () => {
    const { completion } = fromConverseResponse(
      {
        output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] } },
        stopReason: 'tool_use',
      },
      context,
    );
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.usage).toBeUndefined();
  });
});

describe('toFinishReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
    ['malformed_model_output', 'stop'],
    [undefined, 'stop'],
  ])('maps %s to %s', (stopReason, finishReason) => {
    expect(toFinishReason(stopReason)).toBe(finishReason);
  });
});

describe('toTokenUsage', () => {
  it('is undefined without usage and tolerates missing counts', () => {
    expect(toTokenUsage(undefined)).toBeUndefined();
    expect(toTokenUsage({ outputTokens: 4 })).toEqual({ inputTokens: 0, outputTokens: 4, cachedInputTokens: 0 });
  });
});
