import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { toCohereChatRequest } from './chat-request.js';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};
const timeTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };

function translate(request: Partial<ChatCompletionRequest>, stream = false) {
  return toCohereChatRequest({ model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'hi' }], ...request }, 'command-a-03-2025', { stream });
}

function captureError(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('toCohereChatRequest', () => {
  it('keeps roles, maps developer to system and tool calls with their results', () => {
    const body = translate({
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in ' }, { type: 'text', text: 'Toronto?' }] },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [{ id: 'get_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Toronto"}' } }],
        },
        { role: 'tool', tool_call_id: 'get_weather_1', content: [{ type: 'text', text: '{"temperature":"21C"}' }] },
        { role: 'assistant', content: 'It is 21C.' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(body.model).toBe('command-a-03-2025');
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in ' }, { type: 'text', text: 'Toronto?' }] },
      {
        role: 'assistant',
        tool_plan: 'Let me check.',
        tool_calls: [{ id: 'get_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Toronto"}' } }],
      },
      { role: 'tool', tool_call_id: 'get_weather_1', content: '{"temperature":"21C"}' },
      { role: 'assistant', content: 'It is 21C.' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(body.stream).toBeUndefined();
  });

  it('passes image parts to vision models and refuses audio', () => {
    const body = translate({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] }],
    });
    expect(body.messages[0]).toEqual({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] });
    const error = captureError(() =>
      translate({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages[0].content[0]');
  });

  it('maps sampling, length and stop fields to Cohere names', () => {
    const body = translate(
      { max_tokens: 10, max_completion_tokens: 50, temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, stop: 'END', frequency_penalty: 0.1, presence_penalty: 0.3 },
      true,
    );
    expect(body).toMatchObject({ max_tokens: 50, temperature: 0.2, p: 0.9, k: 40, seed: 7, stop_sequences: ['END'], frequency_penalty: 0.1, presence_penalty: 0.3, stream: true });
    expect(translate({ stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
    expect(translate({ temperature: null, top_p: null }).temperature).toBeUndefined();
  });

  it('clamps p, k and the penalties into the ranges Cohere accepts', () => {
    expect(translate({ top_p: 1, top_k: 900, frequency_penalty: -1, presence_penalty: 2 })).toMatchObject({
      p: 0.99,
      k: 500,
      frequency_penalty: 0,
      presence_penalty: 1,
    });
    expect(translate({ top_p: 0 }).p).toBe(0.01);
  });

  it('maps tool_choice: required, none, auto and a named tool', () => {
    expect(translate({ tools: [weatherTool, timeTool], tool_choice: 'required' })).toMatchObject({ tool_choice: 'REQUIRED' });
    expect(translate({ tools: [weatherTool], tool_choice: 'none' }).tool_choice).toBe('NONE');
    const auto = translate({ tools: [weatherTool, timeTool], tool_choice: 'auto' });
    expect(auto.tool_choice).toBeUndefined();
    expect(auto.tools).toEqual([weatherTool, timeTool]);

    const named = translate({ tools: [weatherTool, timeTool], tool_choice: { type: 'function', function: { name: 'get_time' } } });
    expect(named.tool_choice).toBe('REQUIRED');
    expect(named.tools?.map((tool) => tool.function.name)).toEqual(['get_time']);

    const missing = captureError(() => translate({ tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'nope' } } }));
    expect(missing.param).toBe('tool_choice');
  });

  it('turns strict tools into strict_tools and drops the per-tool flag', () => {
    const body = translate({ tools: [{ type: 'function', function: { ...weatherTool.function, strict: true } }] });
    expect(body.strict_tools).toBe(true);
    expect(body.tools?.[0]?.function).not.toHaveProperty('strict');
  });

  it('maps response_format json_object and json_schema', () => {
    expect(translate({ response_format: { type: 'json_object' } }).response_format).toEqual({ type: 'json_object' });
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    expect(translate({ response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } }).response_format).toEqual({
      type: 'json_object',
      json_schema: schema,
    });
    expect(translate({ response_format: { type: 'text' } }).response_format).toBeUndefined();
  });

  it('refuses n > 1, tool messages without an id and legacy function messages', () => {
    expect(captureError(() => translate({ n: 2 })).param).toBe('n');
    expect(captureError(() => translate({ messages: [{ role: 'tool', content: 'x' }] })).param).toBe('messages[0].tool_call_id');
    expect(captureError(() => translate({ messages: [{ role: 'function', name: 'f', content: 'x' }] })).code).toBe('unsupported_role');
  });

  it('sends an empty-arguments tool call as an empty object and drops empty assistant turns', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'time?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_time', arguments: '' } }] },
        { role: 'tool', tool_call_id: 't1', content: '12:00' },
        { role: 'assistant', content: '' },
      ],
    });
    expect(body.messages[1]).toEqual({ role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_time', arguments: '{}' } }] });
    expect(body.messages).toHaveLength(3);
  });
});
