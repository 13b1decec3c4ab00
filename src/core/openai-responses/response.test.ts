import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../spec/openai.js';
import type { ResponseObject } from '../../spec/openai-responses.js';
import { chatCompletionToResponse, outputItemId, responseEchoOf, responseIdFor, tokenUsageToResponseUsage } from './response.js';

function completion(
  message: Partial<ChatCompletion['choices'][number]['message']>,
  finishReason: ChatCompletion['choices'][number]['finish_reason'],
  usage?: ChatCompletion['usage'],
): ChatCompletion {
  const value: ChatCompletion = {
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created: 1,
    model: 'upstream-model',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finishReason, logprobs: null }],
  };
  if (usage !== undefined) value.usage = usage;
  return value;
}

const options = { id: 'resp_1', model: 'gpt-via-gateway', createdAt: 1_700_000_000, completedAt: 1_700_000_002, echo: responseEchoOf({}) };

/** The members the SDK's Response type requires. tsc checks this list is exactly them (less the computed output_text). */
type RequiredKeys<Type> = { [Key in keyof Type]-?: object extends Pick<Type, Key> ? never : Key }[keyof Type];
const requiredMembers: Record<Exclude<RequiredKeys<OpenAI.Responses.Response>, 'output_text'>, true> = {
  id: true,
  created_at: true,
  error: true,
  incomplete_details: true,
  instructions: true,
  metadata: true,
  model: true,
  object: true,
  output: true,
  parallel_tool_calls: true,
  temperature: true,
  tool_choice: true,
  tools: true,
  top_p: true,
};

describe('responseIdFor and outputItemId', () => {
  it('make unique ids with the API prefixes and 32 hex digits', () => {
    expect(responseIdFor()).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(responseIdFor()).not.toBe(responseIdFor());
    expect(outputItemId('msg')).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(outputItemId('fc')).toMatch(/^fc_[0-9a-f]{32}$/);
    expect(outputItemId('rs')).toMatch(/^rs_[0-9a-f]{32}$/);
  });
});

describe('responseEchoOf', () => {
  it('fills the API defaults for fields not sent', () => {
    expect(responseEchoOf({ model: 'm', input: 'hi' })).toEqual({
      instructions: null,
      max_output_tokens: null,
      temperature: 1,
      top_p: 1,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      text: { format: { type: 'text' } },
      reasoning: { effort: null, summary: null },
      store: true,
      metadata: {},
      truncation: 'disabled',
      previous_response_id: null,
      service_tier: 'default',
    });
  });

  it('echoes what was sent', () => {
    const tools = [{ type: 'function', name: 'f', parameters: {} }];
    const echo = responseEchoOf({
      instructions: 'Be brief.',
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      tools,
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      text: { verbosity: 'low' },
      reasoning: { effort: 'high' },
      store: false,
      metadata: { team: 'a' },
      user: 'u1',
      safety_identifier: 'hash',
      truncation: 'auto',
      previous_response_id: 'resp_old',
      service_tier: 'flex',
    });
    expect(echo).toEqual({
      instructions: 'Be brief.',
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      tools,
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      text: { format: { type: 'text' }, verbosity: 'low' },
      reasoning: { effort: 'high', summary: null },
      store: false,
      metadata: { team: 'a' },
      user: 'u1',
      safety_identifier: 'hash',
      truncation: 'auto',
      previous_response_id: null,
      service_tier: 'flex',
    });
  });
});

describe('chatCompletionToResponse', () => {
  it('translates text and usage into a completed Response with every member the SDK requires', () => {
    const response = chatCompletionToResponse(
      completion({ content: 'Hello!' }, 'stop', {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 60 },
        completion_tokens_details: { reasoning_tokens: 5 },
      }),
      options,
    );
    expect(response).toEqual({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      completed_at: 1_700_000_002,
      error: null,
      incomplete_details: null,
      model: 'gpt-via-gateway',
      output: [
        {
          type: 'message',
          id: expect.stringMatching(/^msg_/),
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello!', annotations: [], logprobs: [] }],
        },
      ],
      usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 60, cache_write_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 5 }, total_tokens: 120 },
      ...responseEchoOf({}),
    });
    for (const member of Object.keys(requiredMembers)) expect(response).toHaveProperty(member);
    expect(response).not.toHaveProperty('output_text');
    // The items fit the SDK's own types (checked by tsc).
    const items: OpenAI.Responses.ResponseOutputItem[] = response.output;
    const usage: OpenAI.Responses.ResponseUsage | null = response.usage;
    expect(items).toHaveLength(1);
    expect(usage).not.toBeNull();
  });

  it('puts reasoning first, then the message, then one function call item per tool call', () => {
    const response = chatCompletionToResponse(
      completion(
        {
          reasoning_content: 'The user wants weather.',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      options,
    );
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([
      { type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [], content: [{ type: 'reasoning_text', text: 'The user wants weather.' }] },
      { type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [], logprobs: [] }] },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}', status: 'completed' },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_2', name: 'get_time', arguments: '{}', status: 'completed' },
    ]);
    const ids = response.output.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(response.usage).toBeNull();
  });

  it('gives a message with only tool calls no message item, and a missing call id a generated one', () => {
    const response = chatCompletionToResponse(
      completion({ content: '', tool_calls: [{ id: '', type: 'function', function: { name: 'f', arguments: '' } }] }, 'tool_calls'),
      options,
    );
    expect(response.output).toEqual([{ type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: expect.stringMatching(/^call_/), name: 'f', arguments: '', status: 'completed' }]);
  });

  it('gives a custom tool call a custom_tool_call item with its free-form input', () => {
    const message = { content: null, tool_calls: [{ id: 'call_p', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } }] };
    const response = chatCompletionToResponse(completion(message as unknown as Partial<ChatCompletion['choices'][number]['message']>, 'tool_calls'), options);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toEqual({ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' });
  });

  it('carries a refusal as a refusal part of the message', () => {
    const response = chatCompletionToResponse(completion({ content: null, refusal: 'I cannot help with that.' }, 'stop'), options);
    expect(response.output).toEqual([
      { type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] },
    ]);
  });

  it('marks a reply cut by the token limit incomplete, its last item too', () => {
    const response = chatCompletionToResponse(completion({ reasoning_content: 'Hmm', content: 'Once upon a' }, 'length'), options);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response).not.toHaveProperty('completed_at');
    expect(response.output.map((item) => ('status' in item ? `${item.type}:${item.status}` : item.type))).toEqual(['reasoning', 'message:incomplete']);
  });

  it('reports a filtered reply as incomplete for content_filter', () => {
    const response = chatCompletionToResponse(completion({ content: 'Partial' }, 'content_filter'), options);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'content_filter' });
  });

  it('prefers the normalised usage given over the completion own', () => {
    const response = chatCompletionToResponse(completion({ content: 'x' }, 'stop', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }), {
      ...options,
      usage: { inputTokens: 30, outputTokens: 7, cachedInputTokens: 10, cacheWriteTokens: 4, reasoningTokens: 3 },
    });
    expect(response.usage).toEqual({ input_tokens: 30, input_tokens_details: { cached_tokens: 10, cache_write_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 37 });
  });

  it('echoes the request fields and keeps the model as the client named it', () => {
    const echo = responseEchoOf({ instructions: 'Be brief.', store: false, metadata: { k: 'v' } });
    const response: ResponseObject = chatCompletionToResponse(completion({ content: 'x' }, 'stop'), { ...options, echo });
    expect(response).toMatchObject({ model: 'gpt-via-gateway', instructions: 'Be brief.', store: false, metadata: { k: 'v' }, previous_response_id: null });
  });

  it('reads a completion without choices as an empty completed Response', () => {
    const response = chatCompletionToResponse({ ...completion({}, 'stop'), choices: [] }, options);
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([]);
  });
});

describe('tokenUsageToResponseUsage', () => {
  it('reports zero reasoning tokens when none were counted, and null without usage', () => {
    expect(tokenUsageToResponseUsage({ inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 })).toEqual({
      input_tokens: 5,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
    expect(tokenUsageToResponseUsage(undefined)).toBeNull();
  });
});
