import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { defaultMaxTokensFor } from './models.js';
import { chatRequestToMessages } from './request.js';

const options = { defaultMaxTokens: 4096 };

function translate(request: Partial<ChatCompletionRequest>, extra: Partial<typeof options & { model: string }> = {}) {
  return chatRequestToMessages({ model: 'claude-opus-4-6', messages: [], ...request }, { ...options, ...extra });
}

function expectBadRequest(run: () => unknown, param: string): void {
  try {
    run();
  } catch (error) {
    expect(isGatewayError(error)).toBe(true);
    expect((error as { status: number }).status).toBe(400);
    expect((error as { param: string }).param).toBe(param);
    return;
  }
  throw new Error('expected a 400 GatewayError');
}

describe('chatRequestToMessages', () => {
  it('produces the documented streaming tool-use request from its OpenAI equivalent', () => {
    // The body of the streaming guide's "Streaming request with tool use" example.
    const documented = {
      model: 'claude-opus-4-6',
      max_tokens: 1024,
      tools: [
        {
          name: 'get_weather',
          description: 'Get the current weather in a given location',
          input_schema: {
            type: 'object',
            properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
            required: ['location'],
          },
        },
      ],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'What is the weather like in San Francisco?' }],
      stream: true,
    };
    const body = chatRequestToMessages(
      {
        model: 'anthropic/claude-opus-4-6',
        max_completion_tokens: 1024,
        stream: true,
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Get the current weather in a given location',
              parameters: documented.tools[0]!.input_schema,
            },
          },
        ],
        tool_choice: 'required',
        messages: [{ role: 'user', content: 'What is the weather like in San Francisco?' }],
      },
      { model: 'claude-opus-4-6', defaultMaxTokens: 64_000 },
    );
    expect(body).toEqual(documented);
  });

  it('hoists system and developer messages into system, in order, from anywhere in the conversation', () => {
    const body = translate({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ],
    });
    expect(body.system).toBe('You are terse.\n\nAnswer in French.');
    expect(body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('keeps cache_control on system, user and tool parts as blocks', () => {
    const cache = { type: 'ephemeral' };
    const body = translate({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Long manual', cache_control: cache }] },
        { role: 'user', content: [{ type: 'text', text: 'Question', cache_control: cache }] },
      ],
      tools: [{ type: 'function', function: { name: 'lookup' }, cache_control: cache } as never],
    });
    expect(body.system).toEqual([{ type: 'text', text: 'Long manual', cache_control: cache }]);
    expect(body.messages[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'Question', cache_control: cache }] });
    expect(body.tools?.[0]).toEqual({ name: 'lookup', input_schema: { type: 'object', properties: {} }, cache_control: cache });
  });

  it('translates images (data URI and https) and PDF files', () => {
    const body = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0xLjQ=', filename: 'report.pdf' } },
          ],
        },
      ],
    });
    expect(body.messages[0]?.content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQ=' }, title: 'report.pdf' },
    ]);
  });

  it('rejects content the Messages API cannot carry', () => {
    expectBadRequest(
      () => translate({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://host/x.png' } }] }] }),
      'messages[0].content[0].image_url.url',
    );
    expectBadRequest(
      () => translate({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] }] }),
      'messages[0].content[0]',
    );
    expectBadRequest(() => translate({ n: 2, messages: [{ role: 'user', content: 'x' }] }), 'n');
    expectBadRequest(
      () =>
        translate({
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
          ],
        }),
      'messages[1].tool_calls[0].function.arguments',
    );
  });

  it('turns tool calls into tool_use blocks and gathers tool results into one user turn, results first', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
        { role: 'user', content: 'Which is warmer?' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it('merges consecutive turns of the same role and trims a final assistant prefill', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: 'Sure:  \n' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
      { role: 'assistant', content: 'Sure:' },
    ]);
  });

  it('maps tools and every tool_choice, including parallel_tool_calls: false', () => {
    const tools: ChatCompletionRequest['tools'] = [
      { type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true } },
    ];
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'x' }];
    expect(translate({ messages, tools }).tools).toEqual([{ name: 'f', description: 'does f', input_schema: { type: 'object' }, strict: true }]);
    expect(translate({ messages, tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(translate({ messages, tools, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(translate({ messages, tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(translate({ messages, tools, tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice).toEqual({ type: 'tool', name: 'f' });
    expect(translate({ messages, tools, parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(translate({ messages, tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    // Without tools, a tool_choice would be an upstream error; it is dropped.
    expect(translate({ messages, tool_choice: 'auto' }).tool_choice).toBeUndefined();
  });

  it('fills max_tokens from max_completion_tokens, max_tokens, or the default', () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'x' }];
    expect(translate({ messages, max_tokens: 50, max_completion_tokens: 70 }).max_tokens).toBe(70);
    expect(translate({ messages, max_tokens: 50 }).max_tokens).toBe(50);
    expect(translate({ messages }, { defaultMaxTokens: 1234 }).max_tokens).toBe(1234);
  });

  it('clamps temperature to 0..1, prefers it over top_p, and maps stop, user and top_k', () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'x' }];
    const both = translate({ messages, temperature: 1.7, top_p: 0.5, stop: 'END', user: 'user-42', top_k: 5 });
    expect(both.temperature).toBe(1);
    expect(both.top_p).toBeUndefined();
    expect(both.stop_sequences).toEqual(['END']);
    expect(both.metadata).toEqual({ user_id: 'user-42' });
    expect(both.top_k).toBe(5);
    const onlyTopP = translate({ messages, top_p: 0.5, stop: ['a', '', 'b'] });
    expect(onlyTopP.top_p).toBe(0.5);
    expect(onlyTopP.temperature).toBeUndefined();
    expect(onlyTopP.stop_sequences).toEqual(['a', 'b']);
  });

  it('maps response_format json_schema to output_config.format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const body = translate({
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
  });

  it('passes the thinking extension and then leaves sampling to the API', () => {
    const body = translate({
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0.2,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(body.temperature).toBeUndefined();
  });

  it('sends signed thinking blocks back before the text and tool calls of their turn', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          thinking_blocks: [
            { type: 'thinking', thinking: 'plan', signature: 'sig-1' },
            { type: 'thinking', thinking: 'unsigned', signature: '' },
            { type: 'redacted_thinking', data: 'opaque' },
          ],
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 't1', content: 'done' },
      ],
    });
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'plan', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'tool_use', id: 't1', name: 'f', input: {} },
      ],
    });
  });
});

describe('defaultMaxTokensFor', () => {
  it('knows each family in both naming schemes and on other platforms', () => {
    expect(defaultMaxTokensFor('claude-3-haiku-20240307')).toBe(4096);
    expect(defaultMaxTokensFor('claude-3-5-sonnet-20241022')).toBe(8192);
    expect(defaultMaxTokensFor('claude-3-7-sonnet-latest')).toBe(64_000);
    expect(defaultMaxTokensFor('claude-opus-4-20250514')).toBe(32_000);
    expect(defaultMaxTokensFor('claude-opus-4-1-20250805')).toBe(32_000);
    expect(defaultMaxTokensFor('claude-sonnet-4-5@20250929')).toBe(64_000);
    expect(defaultMaxTokensFor('anthropic.claude-haiku-4-5-20251001-v1:0')).toBe(64_000);
    expect(defaultMaxTokensFor('claude-opus-4-6')).toBe(128_000);
    expect(defaultMaxTokensFor('claude-opus-5-5')).toBe(128_000);
    expect(defaultMaxTokensFor('some-other-model')).toBe(4096);
  });
});
