import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnthropicMessage } from '../../spec/anthropic.js';
import { anthropicUsageToTokenUsage, isSoundMessage, messageShapeProblem, messageToChatCompletion, readAnthropicMessage } from './response.js';
import { finishReasonFromStopReason } from './stop-reason.js';

function fixture(name: string): AnthropicMessage {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as AnthropicMessage;
}

describe('messageToChatCompletion', () => {
  it('translates the documented text reply', () => {
    const completion = messageToChatCompletion(fixture('message-basic.json'), 'my-claude', { created: 1_700_000_000 });
    expect(completion).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'my-claude',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('translates the documented tool-use reply, arguments as JSON text', () => {
    const completion = messageToChatCompletion(fixture('message-tool-use.json'), 'claude-opus-4-6', { created: 1 });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the current weather in San Francisco for you.");
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      },
    ]);
    // The documented example carries no usage; none is invented.
    expect(completion.usage).toBeUndefined();
  });

  it('gives null content when a reply is only tool calls', () => {
    const message = fixture('message-tool-use.json');
    message.content = message.content.filter((block) => block.type === 'tool_use');
    expect(messageToChatCompletion(message, 'm', { created: 1 }).choices[0]!.message.content).toBeNull();
  });

  it('exposes thinking as reasoning_content and keeps the blocks, signatures included', () => {
    const message = messageToChatCompletion(fixture('message-thinking.json'), 'm', { created: 1 }).choices[0]!.message;
    expect(message.content).toBe('Based on my analysis...');
    expect(message.reasoning_content).toBe('Let me analyze this step by step...');
    expect(message.thinking_blocks).toEqual([fixture('message-thinking.json').content[0], fixture('message-thinking.json').content[1]]);
  });

  it('counts cache writes and reads into the prompt, reads as cached', () => {
    const completion = messageToChatCompletion(fixture('message-prompt-cache.json'), 'm', { created: 1 });
    expect(completion.usage).toEqual({
      prompt_tokens: 21 + 188_086,
      completion_tokens: 393,
      total_tokens: 21 + 188_086 + 393,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(anthropicUsageToTokenUsage({ input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 20, cache_read_input_tokens: 300 })).toEqual({
      inputTokens: 330,
      outputTokens: 5,
      cachedInputTokens: 300,
      cacheWriteTokens: 20,
    });
  });

  it('keeps the cache writes kept an hour apart, within the writes reported', () => {
    const base = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 20, cache_read_input_tokens: 0 };
    expect(anthropicUsageToTokenUsage({ ...base, cache_creation: { ephemeral_5m_input_tokens: 5, ephemeral_1h_input_tokens: 15 } })).toMatchObject({
      cacheWriteTokens: 20,
      cacheWriteLongTokens: 15,
    });
    expect(anthropicUsageToTokenUsage({ ...base, cache_creation: { ephemeral_1h_input_tokens: 99 } })?.cacheWriteLongTokens).toBe(20);
    // None kept an hour, or a breakdown that is not counts: all writes at the default lifetime's rate.
    expect(anthropicUsageToTokenUsage({ ...base, cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 0 } })).not.toHaveProperty('cacheWriteLongTokens');
    const odd = anthropicUsageToTokenUsage({ ...base, cache_creation: { ephemeral_1h_input_tokens: 'many' } as never });
    expect(odd).toMatchObject({ cacheWriteTokens: 20 });
    expect(odd).not.toHaveProperty('cacheWriteLongTokens');
  });
});

describe('finishReasonFromStopReason', () => {
  it('maps every documented stop reason, unknown ones to stop', () => {
    expect(finishReasonFromStopReason('end_turn')).toBe('stop');
    expect(finishReasonFromStopReason('stop_sequence')).toBe('stop');
    expect(finishReasonFromStopReason('pause_turn')).toBe('stop');
    expect(finishReasonFromStopReason('max_tokens')).toBe('length');
    expect(finishReasonFromStopReason('model_context_window_exceeded')).toBe('length');
    expect(finishReasonFromStopReason('tool_use')).toBe('tool_calls');
    expect(finishReasonFromStopReason('refusal')).toBe('content_filter');
    expect(finishReasonFromStopReason('something_new')).toBe('stop');
  });
});

describe('reading a reply that may not be a message', () => {
  it('names the member Tollgate reads that is not of its type', () => {
    expect(messageShapeProblem(fixture('message-tool-use.json'))).toBeUndefined();
    expect(messageShapeProblem([])).toBe('it is not an object');
    expect(messageShapeProblem({ content: 'text' })).toBe('"content" is not a list');
    expect(messageShapeProblem({ content: [null] })).toBe('content[0] is not an object');
    expect(messageShapeProblem({ content: [{ type: 'text', text: 5 }] })).toMatch(/content\[0\]\.text/);
    expect(messageShapeProblem({ content: [{ type: 'tool_use', id: 'toolu_1', name: ['f'], input: {} }] })).toMatch(/name/);
    // Blocks of kinds Tollgate does not read pass whatever their shape.
    expect(messageShapeProblem({ content: [{ type: 'server_tool_use', id: 7 }] })).toBeUndefined();
  });

  it('answers a body that is not JSON or not a message with an upstream 502', () => {
    for (const text of ['<html></html>', 'null', '{"content":5}']) {
      expect(() => readAnthropicMessage(new TextEncoder().encode(text), 'Anthropic'), text).toThrow(expect.objectContaining({ status: 502, upstream: true }));
    }
  });

  it('gives a message without an id the fallback id, and a stop reason that names an Object member "stop"', () => {
    const message = { ...fixture('message-basic.json'), id: 7, stop_reason: 'constructor' } as unknown as AnthropicMessage;
    const completion = messageToChatCompletion(message, 'm', { created: 1, fallbackId: 'msg_fallback' });
    expect(completion.id).toBe('msg_fallback');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(finishReasonFromStopReason('toString')).toBe('stop');
  });

  it('reads usage with a count that is not one as no usage', () => {
    expect(anthropicUsageToTokenUsage({ input_tokens: -3, output_tokens: 2 })).toBeUndefined();
    expect(anthropicUsageToTokenUsage({ input_tokens: 3, output_tokens: 2 })).toMatchObject({ inputTokens: 3, outputTokens: 2 });
  });
});

describe('isSoundMessage', () => {
  it('holds for the documented replies that carry every member a client reads', () => {
    expect(isSoundMessage(fixture('message-basic.json'))).toBe(true);
    expect(isSoundMessage(fixture('message-prompt-cache.json'))).toBe(true);
  });

  it('fails for a member missing or of another type', () => {
    const basic = fixture('message-basic.json') as unknown as Record<string, unknown>;
    const usage = basic.usage as Record<string, unknown>;
    const broken: Array<Record<string, unknown>> = [
      { ...basic, id: 42 },
      { ...basic, id: '' },
      { ...basic, type: 'completion' },
      { ...basic, role: 'user' },
      { ...basic, model: undefined },
      { ...basic, stop_reason: 1 },
      { ...basic, stop_sequence: false },
      { ...basic, usage: undefined },
      { ...basic, usage: { ...usage, output_tokens: '7' } },
      { ...basic, usage: { ...usage, input_tokens: -1 } },
      { ...basic, usage: { ...usage, cache_read_input_tokens: 1.5 } },
      { ...basic, content: [{ text: 'no type' }] },
    ];
    for (const message of broken) expect(isSoundMessage(message as unknown as AnthropicMessage), JSON.stringify(message)).toBe(false);
    expect(isSoundMessage({ ...basic, usage: { ...usage, cache_read_input_tokens: null } } as unknown as AnthropicMessage)).toBe(true);
  });
});
