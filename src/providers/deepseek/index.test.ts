import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createDeepSeekAdapter } from './index.js';

const adapter = createDeepSeekAdapter({});
const context = createTestContext({ adapterType: 'deepseek', model: 'deepseek-reasoner' });

describe('DeepSeek adapter', () => {
  it('forwards reasoning_content on assistant turns that made tool calls', async () => {
    const request: ChatCompletionRequest = {
      model: 'deepseek/deepseek-reasoner',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'I should call the weather tool.',
          tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '18C' },
      ],
    };
    const upstream = await adapter.chat.buildRequest(request, context, { stream: false });
    expect(upstream.url).toBe('https://api.deepseek.com/v1/chat/completions');
    expect(JSON.parse(upstream.body as string).messages[1].reasoning_content).toBe('I should call the weather tool.');
  });

  it('reads cache-hit usage and maps insufficient_system_resource to length', async () => {
    const body = {
      id: 'd',
      object: 'chat.completion',
      created: 1,
      model: 'deepseek-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: 'partial' }, finish_reason: 'insufficient_system_resource' }],
      usage: { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 },
    };
    const result = await adapter.chat.parseResponse({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) }, context);
    expect(result.completion.choices[0]?.finish_reason).toBe('length');
    expect(result.usage).toEqual({ inputTokens: 100, outputTokens: 5, cachedInputTokens: 64 });
  });
});
