import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { normalizeFinishReason, parseChatCompletion } from './response.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

describe('parseChatCompletion', () => {
  it('reads the OpenAI documentation example unchanged, so the core may forward its bytes', () => {
    const result = parseChatCompletion(fixture('openai-completion.json'));
    expect(result.passthrough).toBe(true);
    expect(result.completion.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
    expect(result.completion.service_tier).toBe('default');
    expect(result.usage).toEqual({ inputTokens: 19, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 0 });
  });

  it('reads a tool-call completion with cached prompt tokens', () => {
    const result = parseChatCompletion(fixture('openai-tool-call-completion.json'));
    expect(result.passthrough).toBe(true);
    const call = result.completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.function).toEqual({ name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' });
    expect(result.completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(result.usage).toMatchObject({ inputTokens: 82, outputTokens: 17, cachedInputTokens: 64 });
  });

  it('keeps DeepSeek reasoning_content and reads its reasoning usage', () => {
    const result = parseChatCompletion(fixture('deepseek-reasoner-completion.json'));
    expect(result.completion.choices[0]?.message.reasoning_content).toContain('tenths digit');
    expect(result.usage).toEqual({ inputTokens: 15, outputTokens: 346, cachedInputTokens: 0, reasoningTokens: 327 });
    expect(result.passthrough).toBe(true);
  });

  it('turns null choices into an empty list and says the body changed', () => {
    const result = parseChatCompletion(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: null }));
    expect(result.completion.choices).toEqual([]);
    expect(result.passthrough).toBe(false);
    expect(result.usage).toBeUndefined();
  });

  it('maps listed finish reasons and turns unknown ones into stop', () => {
    const body = JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'model_length' },
        { index: 1, message: { role: 'assistant', content: 'b' }, finish_reason: 'eos' },
      ],
    });
    const result = parseChatCompletion(body, { finishReasons: { model_length: 'length' } });
    expect(result.completion.choices.map((choice) => choice.finish_reason)).toEqual(['length', 'stop']);
    expect(result.passthrough).toBe(false);
  });

  it("reads Groq's x_groq.usage when the standard usage is missing", () => {
    const body = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [], x_groq: { usage: { prompt_tokens: 3, completion_tokens: 4 } } });
    expect(parseChatCompletion(body).usage).toEqual({ inputTokens: 3, outputTokens: 4, cachedInputTokens: 0 });
  });

  it('fails with a 502 upstream error on a body that is not JSON', () => {
    let caught: unknown;
    try {
      parseChatCompletion('<html>oops</html>');
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.status === 502 && caught.upstream).toBe(true);
  });
});

describe('normalizeFinishReason', () => {
  it('keeps standard reasons and null', () => {
    for (const reason of ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const) {
      expect(normalizeFinishReason(reason)).toBe(reason);
    }
    expect(normalizeFinishReason(null)).toBeNull();
    expect(normalizeFinishReason(undefined)).toBeNull();
    expect(normalizeFinishReason('insufficient_system_resource', { insufficient_system_resource: 'length' })).toBe('length');
    expect(normalizeFinishReason('abort')).toBe('stop');
  });
});

describe('parseChatCompletion of a reply of the wrong shape', () => {
  const valid = () => JSON.parse(new TextDecoder().decode(fixture('openai-tool-call-completion.json'))) as Record<string, any>;
  const parse = (body: unknown) => parseChatCompletion(JSON.stringify(body));

  it('answers choices, messages or tool calls Tollgate reads that are not of their types with an upstream 502', () => {
    const broken: Array<(body: Record<string, any>) => void> = [
      (body) => (body.choices = 'none'),
      (body) => (body.choices = [1]),
      (body) => (body.choices[0].message = null),
      (body) => (body.choices[0].message.content = 5),
      (body) => (body.choices[0].message.tool_calls = {}),
      (body) => (body.choices[0].message.tool_calls[0].function = 'lookup'),
      (body) => (body.choices[0].message.tool_calls[0].function.arguments = { a: 1 }),
    ];
    for (const change of broken) {
      const body = valid();
      change(body);
      expect(() => parse(body), change.toString()).toThrow(expect.objectContaining({ status: 502, upstream: true, code: 'upstream_invalid_response' }));
    }
  });

  it('takes out a usage report whose counts are not counts, and stops forwarding the bytes', () => {
    const body = valid();
    body.usage.prompt_tokens = -3;
    const result = parse(body);
    expect(result.usage).toBeUndefined();
    expect(result.completion.usage).toBeUndefined();
    expect(result.passthrough).toBe(false);
  });

  it('still forwards what it does not read: null tool calls, content parts, custom tool calls, unknown members', () => {
    const body = valid();
    body.choices[0].message.tool_calls.push({ id: 'call_9', type: 'custom', custom: { name: 'grep', input: 'x' } });
    body.choices.push({ index: 1, message: { role: 'assistant', content: [{ type: 'text', text: 'hi' }], tool_calls: null }, finish_reason: 'stop' });
    body.some_new_member = { nested: [1] };
    expect(parse(body).passthrough).toBe(true);
  });
});
