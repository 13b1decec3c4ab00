import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { toReplicateInput } from './chat-input.js';

function translate(request: Partial<ChatCompletionRequest>) {
  return toReplicateInput({ model: 'replicate/meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }], ...request });
}

function statusOf(run: () => unknown): { status: number; param: string | null } | undefined {
  try {
    run();
  } catch (error) {
    if (isGatewayError(error)) return { status: error.status, param: error.param };
    throw error;
  }
  return undefined;
}

describe('toReplicateInput', () => {
  it('sends a single user turn as the prompt and system messages as system_prompt', () => {
    expect(
      translate({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
          { role: 'user', content: 'Write a haiku about llamas' },
        ],
      }),
    ).toEqual({ prompt: 'Write a haiku about llamas', system_prompt: 'You are terse.\n\nAnswer in English.' });
  });

  it('flattens a conversation into a transcript ending with the assistant cue', () => {
    const input = translate({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: [{ type: 'text', text: 'How are ' }, { type: 'text', text: 'you?' }] },
      ],
    });
    expect(input.prompt).toBe('User: Hi\n\nAssistant: Hello!\n\nUser: How are you?\n\nAssistant:');
    expect(input).not.toHaveProperty('system_prompt');
  });

  it('lets a trailing assistant turn be continued, and renders tool history as text', () => {
    const input = translate({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'assistant', content: 'It is' },
      ],
    });
    expect(input.prompt).toBe('User: Weather?\n\nAssistant: [called get_weather({})]\n\nTool result: sunny\n\nAssistant: It is');
  });

  it('maps length, sampling and stop inputs', () => {
    expect(translate({ max_tokens: 64, max_completion_tokens: 128, temperature: 0.5, top_p: 0.9, top_k: 50, seed: 3, stop: ['\n\n', 'END'], presence_penalty: 1.1, frequency_penalty: 0.2 })).toEqual({
      prompt: 'hi',
      max_tokens: 128,
      max_new_tokens: 128,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 50,
      seed: 3,
      stop_sequences: '\n\n,END',
      presence_penalty: 1.1,
      frequency_penalty: 0.2,
    });
    expect(translate({ stop: 'END' }).stop_sequences).toBe('END');
  });

  it('ignores tools offered with auto but refuses forced tool calls, JSON modes, images and n > 1', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f' } }];
    expect(translate({ tools, tool_choice: 'auto' })).toEqual({ prompt: 'hi' });
    expect(statusOf(() => translate({ tools, tool_choice: 'required' }))).toEqual({ status: 400, param: 'tool_choice' });
    expect(statusOf(() => translate({ tools, tool_choice: { type: 'function', function: { name: 'f' } } }))?.status).toBe(400);
    expect(statusOf(() => translate({ response_format: { type: 'json_object' } }))).toEqual({ status: 400, param: 'response_format' });
    expect(statusOf(() => translate({ n: 2 }))).toEqual({ status: 400, param: 'n' });
    expect(statusOf(() => translate({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }))).toEqual({
      status: 400,
      param: 'messages[0].content[0]',
    });
  });
});
