import { describe, expect, it } from 'vitest';
import { nativeMessagesBody } from './native-body.js';

describe('nativeMessagesBody', () => {
  const client = {
    model: 'anthropic/claude-sonnet-4-5',
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'search_result', source: 'https://example.com', title: 'T', content: [] }] }],
    system: 'Be brief.',
    thinking: { type: 'enabled', budget_tokens: 1024 },
    cache_control: { type: 'ephemeral' },
    context_management: { edits: [] },
    output_config: { effort: 'low', format: { type: 'json_schema', schema: {} } },
    stream: false,
    fallbacks: ['openai/gpt-4o'],
    service_tier: 'auto',
    speed: 'fast',
    inference_geo: 'us',
    container: 'container_1',
    mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }],
  };

  it("keeps the client's members as sent, under the upstream's model, leaving out the priced, tool-running and gateway ones", () => {
    const body = nativeMessagesBody(client, 'claude-sonnet-4-5', false);
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: client.messages,
      system: 'Be brief.',
      thinking: client.thinking,
      cache_control: client.cache_control,
      context_management: client.context_management,
      output_config: client.output_config,
    });
    expect(body.messages).toBe(client.messages);
  });

  it('names no model for an upstream that takes it from the address', () => {
    expect(nativeMessagesBody(client, undefined, false)).not.toHaveProperty('model');
  });

  it('says stream only when streaming', () => {
    expect(nativeMessagesBody(client, 'm', true).stream).toBe(true);
    expect(nativeMessagesBody({ ...client, stream: true }, 'm', false)).not.toHaveProperty('stream');
  });
});
