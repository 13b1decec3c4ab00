import { describe, expect, it } from 'vitest';
import { chatRequestToMessages } from '../../providers/anthropic-format/request.js';
import type { AnthropicMessagesRequest } from '../../spec/anthropic.js';
import { isGatewayError } from '../../spec/errors.js';
import { messagesRequestToChat } from './request.js';

/** Anthropic body → chat → Anthropic body, as when an Anthropic client is routed to a Claude model. */
function roundTrip(body: AnthropicMessagesRequest): AnthropicMessagesRequest {
  return chatRequestToMessages(messagesRequestToChat(body, { anthropicExtensions: true }), { defaultMaxTokens: 1 });
}

const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

describe('messagesRequestToChat', () => {
  it('translates system, tool use and tool results into chat messages', () => {
    const chat = messagesRequestToChat({
      model: 'gpt-4o',
      max_tokens: 1024,
      system: 'You are a weather bot.',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18°C' }] },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
      tools: [weatherTool],
      tool_choice: { type: 'any' },
      stop_sequences: ['END'],
      metadata: { user_id: 'user-1' },
      temperature: 0.2,
    });
    expect(chat).toEqual({
      model: 'gpt-4o',
      max_tokens: 1024,
      temperature: 0.2,
      stop: ['END'],
      user: 'user-1',
      messages: [
        { role: 'system', content: 'You are a weather bot.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.input_schema } }],
      tool_choice: 'required',
    });
  });

  it('translates images and PDFs into image_url and file parts, and moves tool-result images after the results', () => {
    const chat = messagesRequestToChat({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              is_error: true,
              content: [
                { type: 'text', text: 'partial capture' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              ],
            },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'spec.pdf' },
          ],
        },
      ],
    });
    expect(chat.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'screenshot', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'Error: partial capture' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'spec.pdf' } },
        ],
      },
    ]);
  });

  it("keeps a failed tool result's flag for Claude upstreams, and says it in the text for the others", () => {
    const body: AnthropicMessagesRequest = {
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'run', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', is_error: true, content: 'no such file' }] },
      ],
    };
    expect(messagesRequestToChat(body).messages[2]).toEqual({ role: 'tool', tool_call_id: 't1', content: 'Error: no such file' });
    expect(messagesRequestToChat(body, { anthropicExtensions: true }).messages[2]).toEqual({ role: 'tool', tool_call_id: 't1', content: 'no such file', is_error: true });
  });

  it('maps every tool_choice and disable_parallel_tool_use', () => {
    const base = { model: 'm', max_tokens: 1, messages: [{ role: 'user' as const, content: 'x' }], tools: [weatherTool] };
    expect(messagesRequestToChat({ ...base, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(messagesRequestToChat({ ...base, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(messagesRequestToChat({ ...base, tool_choice: { type: 'tool', name: 'get_weather' } }).tool_choice).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
    const serial = messagesRequestToChat({ ...base, tool_choice: { type: 'any', disable_parallel_tool_use: true } });
    expect(serial.tool_choice).toBe('required');
    expect(serial.parallel_tool_calls).toBe(false);
  });

  it('leaves Anthropic-only features out unless asked, so any provider accepts the request', () => {
    const body: AnthropicMessagesRequest = {
      model: 'm',
      max_tokens: 100,
      top_k: 3,
      thinking: { type: 'enabled', budget_tokens: 50 },
      system: [{ type: 'text', text: 'Cached', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'Hello' }] },
      ],
    };
    const plain = messagesRequestToChat(body, { betas: ['context-1m-2025-08-07'] });
    expect(plain).toEqual({
      model: 'm',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Cached' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
    const extended = messagesRequestToChat(body, { anthropicExtensions: true, betas: ['context-1m-2025-08-07'] });
    expect(extended.anthropic_beta).toEqual(['context-1m-2025-08-07']);
    expect(extended).not.toHaveProperty('anthropic_request_members');
    expect(extended.top_k).toBe(3);
    expect(extended.thinking).toEqual({ type: 'enabled', budget_tokens: 50 });
    expect(extended.messages[0]!.content).toEqual([{ type: 'text', text: 'Cached', cache_control: { type: 'ephemeral' } }]);
    expect(extended.messages[2]).toMatchObject({ reasoning_content: 'hmm', thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 's' }] });
  });

  it("keeps Claude's own request members for Claude upstreams, output_config without its format, and no others", () => {
    const body = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
      cache_control: { type: 'ephemeral' },
      context_management: { edits: [] },
      output_config: { effort: 'low', format: { type: 'json_schema', schema: { type: 'object' } } },
      service_tier: 'auto',
      speed: 'fast',
      container: { id: 'c' },
    } as unknown as AnthropicMessagesRequest;
    expect(messagesRequestToChat(body)).not.toHaveProperty('anthropic_request_members');
    const extended = messagesRequestToChat(body, { anthropicExtensions: true });
    expect(extended.anthropic_request_members).toEqual({ cache_control: { type: 'ephemeral' }, context_management: { edits: [] }, output_config: { effort: 'low' } });
    expect(extended.response_format).toMatchObject({ type: 'json_schema' });
  });

  it('accepts the system role newer SDKs put in messages, and asks for usage when streaming', () => {
    const chat = messagesRequestToChat({
      model: 'm',
      max_tokens: 5,
      stream: true,
      messages: [
        { role: 'system', content: 'Be nice.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'Be nice.' });
    expect(chat.stream).toBe(true);
    expect(chat.stream_options).toEqual({ include_usage: true });
  });

  it('rejects server tools and document URLs with a 400', () => {
    const run = (body: AnthropicMessagesRequest) => {
      try {
        messagesRequestToChat(body);
      } catch (error) {
        return isGatewayError(error) ? error.status : -1;
      }
      return 200;
    };
    const base = { model: 'm', max_tokens: 1, messages: [{ role: 'user' as const, content: 'x' }] };
    expect(run({ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toBe(400);
    expect(run({ ...base, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }] }] })).toBe(400);
    expect(run({ model: 'm', max_tokens: 1 } as AnthropicMessagesRequest)).toBe(400);
  });
});

describe('round trip through the chat format to a Claude model', () => {
  it('gives back the request a client sent, thinking and cache markers included', () => {
    const body: AnthropicMessagesRequest = {
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should call the tool.', signature: 'EqQBCgIYAhIM' },
            { type: 'text', text: 'Let me check.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
            { type: 'text', text: 'And tomorrow?', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
      max_tokens: 2048,
      system: [{ type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral' } }],
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      tools: [{ ...weatherTool, cache_control: { type: 'ephemeral' } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      thinking: { type: 'enabled', budget_tokens: 1024 },
      stream: true,
    };
    expect(roundTrip(body)).toEqual(body);
  });

  it('keeps sampling, images and documents', () => {
    const body: AnthropicMessagesRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/b.png' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQ=' }, title: 'a.pdf' },
            { type: 'text', text: 'Describe them.' },
          ],
        },
      ],
      max_tokens: 300,
      temperature: 0.4,
      top_k: 10,
    };
    expect(roundTrip(body)).toEqual(body);
  });
});
