import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeBedrockFrames, type BedrockStreamEvent } from '../../../test/mocks/bedrock-mock.js';
import type { ProviderContext, StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { claudeInvokeBody, createClaudeInvokeStreamDecoder, isClaudeOnBedrock, parseClaudeInvokeResponse } from './claude-invoke.js';

const context = {
  model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
  requestId: 'req-9',
  now: () => 1_700_000_123_000,
  provider: { name: 'bedrock', adapterType: 'bedrock', network: { extraHeaders: {}, timeoutMs: 1000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
  key: { id: 'k', name: 'k', provider: 'bedrock', value: 'bedrock-secret-value-0001' },
} as unknown as ProviderContext;

/** Anthropic's documented basic stream, event by event (the JSON of each `data:` line). */
const anthropicEvents = readFileSync(new URL('../anthropic-format/fixtures/stream-basic.sse', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('data: '))
  .map((line) => line.slice('data: '.length));

/** Each Anthropic event wrapped as Bedrock's InvokeModelWithResponseStream wraps it: a chunk frame of base64 bytes. */
function chunkFrames(events: readonly string[], extra: BedrockStreamEvent[] = []): Uint8Array {
  const frames = events.map((event) => ({ type: 'chunk', payload: { bytes: Buffer.from(event, 'utf8').toString('base64') } }));
  return Buffer.concat(encodeBedrockFrames([...frames, ...extra]));
}

function decodeAll(decoder: StreamDecoder, bytes: Uint8Array, size: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
  events.push(...decoder.finish());
  return events;
}

describe('claudeInvokeBody', () => {
  it("carries the client's members Bedrock takes, under Bedrock's version, the betas in the body", () => {
    const client = {
      model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'hi' }],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      metadata: { user_id: 'u-1' },
      output_config: { effort: 'low' },
      service_tier: 'priority',
      stream: true,
      fallbacks: ['openai/gpt-4o'],
    };
    expect(claudeInvokeBody(client, ['interleaved-thinking-2025-05-14'])).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      system: client.system,
      messages: client.messages,
      thinking: client.thinking,
      output_config: client.output_config,
      anthropic_beta: ['interleaved-thinking-2025-05-14'],
    });
    expect(claudeInvokeBody(client, [])).not.toHaveProperty('anthropic_beta');
  });
});

describe('isClaudeOnBedrock', () => {
  it("takes Anthropic's models, inference profiles included, and no other", () => {
    expect(isClaudeOnBedrock(context)).toBe(true);
    expect(isClaudeOnBedrock({ ...context, model: 'us.anthropic.claude-sonnet-4-20250514-v1:0' })).toBe(true);
    expect(isClaudeOnBedrock({ ...context, model: 'amazon.nova-pro-v1:0' })).toBe(false);
  });
});

describe('parseClaudeInvokeResponse', () => {
  it("reads InvokeModel's Anthropic message: usage, the completion, and whether it may be forwarded", () => {
    // As Bedrock answers: Anthropic's message, the model named without Bedrock's prefix and version.
    const message = {
      id: 'msg_bdrk_01RJH8g6p2ZpNQxAjQ6sW1eY',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [
        { type: 'text', text: "I'll check the weather." },
        { type: 'tool_use', id: 'toolu_bdrk_01', name: 'get_weather', input: { location: 'Oslo' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 380, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 56 },
    };
    const body = Buffer.from(JSON.stringify(message));
    const result = parseClaudeInvokeResponse({ status: 200, headers: {}, body }, context);
    expect(result.nativeSound).toBe(true);
    expect(result.usage).toMatchObject({ inputTokens: 380, outputTokens: 56 });
    expect(result.completion.choices[0]!.finish_reason).toBe('tool_calls');
    const unsound: Record<string, unknown> = { ...message, usage: { input_tokens: '5', output_tokens: 1 } };
    expect(parseClaudeInvokeResponse({ status: 200, headers: {}, body: Buffer.from(JSON.stringify(unsound)) }, context).nativeSound).toBe(false);
  });
});

describe('createClaudeInvokeStreamDecoder', () => {
  it("forwards Anthropic's events out of their chunk frames, wherever the bytes split, and reads the usage", () => {
    const bytes = chunkFrames(anthropicEvents);
    const whole = decodeAll(createClaudeInvokeStreamDecoder(context, []), bytes, bytes.length);
    for (const size of [1, 7, 61]) expect(decodeAll(createClaudeInvokeStreamDecoder(context, []), bytes, size)).toEqual(whole);
    expect(whole.every((event) => event.kind === 'native')).toBe(true);
    // Each event as SSE text named by its type, its data as Anthropic wrote it.
    expect(whole.map((event) => (event.kind === 'native' ? event.text : ''))).toEqual(
      anthropicEvents.map((data) => `event: ${(JSON.parse(data) as { type: string }).type}\ndata: ${data}\n\n`),
    );
    const decoder = createClaudeInvokeStreamDecoder(context, []);
    decodeAll(decoder, bytes, bytes.length);
    expect(decoder.usage()).toMatchObject({ inputTokens: 25 });
  });

  it('ends with an error, naming no secret, at an exception frame, a frame that is not a chunk, or a cut', () => {
    const exception: BedrockStreamEvent = { type: 'throttlingException', payload: { message: 'Too many requests (bedrock-secret-value-0001)' }, messageType: 'exception' };
    const thrown = decodeAll(createClaudeInvokeStreamDecoder(context, ['bedrock-secret-value-0001']), chunkFrames(anthropicEvents.slice(0, 2), [exception]), 1 << 20);
    expect(thrown.map((event) => event.kind)).toEqual(['native', 'native', 'error']);
    expect(thrown.at(-1)).toMatchObject({ kind: 'error', error: { status: 429 } });

    const notChunk = decodeAll(createClaudeInvokeStreamDecoder(context, []), chunkFrames(anthropicEvents.slice(0, 1), [{ type: 'metadata', payload: { usage: {} } }]), 1 << 20);
    expect(notChunk.map((event) => event.kind)).toEqual(['native', 'error']);

    const cut = decodeAll(createClaudeInvokeStreamDecoder(context, []), chunkFrames(anthropicEvents.slice(0, 3)), 1 << 20);
    expect(cut.at(-1)!.kind).toBe('error');
    const bytes = chunkFrames(anthropicEvents);
    const halfFrame = decodeAll(createClaudeInvokeStreamDecoder(context, []), bytes.subarray(0, bytes.length - 5), 1 << 20);
    expect(halfFrame.at(-1)!.kind).toBe('error');
  });
});
