import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anthropicUsageToTokenUsage, messageToChatCompletion } from '../../providers/anthropic-format/response.js';
import type { AnthropicMessage } from '../../spec/anthropic.js';
import type { ChatCompletion } from '../../spec/openai.js';
import { anthropicErrorBody, anthropicErrorType } from './error-body.js';
import { chatCompletionToMessage } from './response.js';

function completion(message: Partial<ChatCompletion['choices'][number]['message']>, finishReason: ChatCompletion['choices'][number]['finish_reason'], usage?: ChatCompletion['usage']): ChatCompletion {
  const value: ChatCompletion = {
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finishReason, logprobs: null }],
  };
  if (usage !== undefined) value.usage = usage;
  return value;
}

describe('chatCompletionToMessage', () => {
  it('translates text, finish reason and usage, cached tokens apart', () => {
    const message = chatCompletionToMessage(
      completion({ content: 'Hello!' }, 'length', {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 60 },
      }),
      'claude-sonnet-4-5',
    );
    expect(message).toEqual({
      id: 'msg_abc123',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 60 },
    });
  });

  it('turns tool calls into tool_use blocks with parsed input', () => {
    const message = chatCompletionToMessage(
      completion(
        {
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'broken', arguments: '{"a":' } },
          ],
        },
        'tool_calls',
      ),
      'm',
    );
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'broken', input: { _raw_arguments: '{"a":' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('says tool_use when a provider says stop after tool calls, and maps content_filter to refusal', () => {
    const afterTools = chatCompletionToMessage(completion({ tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '' } }] }, 'stop'), 'm');
    expect(afterTools.stop_reason).toBe('tool_use');
    expect(afterTools.content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
    expect(chatCompletionToMessage(completion({ content: '' }, 'content_filter'), 'm').stop_reason).toBe('refusal');
  });

  it('gives an Anthropic reply back unchanged after a trip through the chat format', () => {
    const original = JSON.parse(
      readFileSync(new URL('../../providers/anthropic-format/fixtures/message-thinking.json', import.meta.url), 'utf8'),
    ) as AnthropicMessage;
    original.usage = { input_tokens: 10, output_tokens: 120, cache_creation_input_tokens: 30, cache_read_input_tokens: 500 };
    const chat = messageToChatCompletion(original, original.model, { created: 1 });
    const back = chatCompletionToMessage(chat, original.model, anthropicUsageToTokenUsage(original.usage));
    expect(back).toEqual(original);
  });

  it('exposes reasoning from other providers as an unsigned thinking block', () => {
    const message = chatCompletionToMessage(completion({ content: '42', reasoning_content: 'think' }, 'stop'), 'm');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'think', signature: '' },
      { type: 'text', text: '42' },
    ]);
  });
});

describe('anthropicErrorBody', () => {
  it('speaks Anthropic error types and carries the code where the SDK reads it', () => {
    expect(anthropicErrorBody({ status: 503, type: 'service_unavailable_error', message: 'busy' }, 'req_1')).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'busy' },
      request_id: 'req_1',
    });
    expect(anthropicErrorBody({ status: 402, type: 'payment_required', message: 'over budget', code: 'API_KEY_USD_SPEND_LIMIT_EXCEEDED' })).toEqual({
      type: 'error',
      error: { type: 'billing_error', message: 'over budget', details: { error_code: 'API_KEY_USD_SPEND_LIMIT_EXCEEDED' } },
    });
    expect(anthropicErrorType(undefined, 418)).toBe('invalid_request_error');
    expect(anthropicErrorType('weird', 502)).toBe('api_error');
  });
});
