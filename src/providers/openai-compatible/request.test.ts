import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { CompatibleDescription } from './description.js';
import { buildChatBody, buildChatRequest, buildHeaders, joinUrl, resolveBaseUrl, withFieldRules } from './request.js';
import { createTestContext } from './test-support.js';

const description: CompatibleDescription = {
  type: 'example',
  displayName: 'Example',
  defaultBaseUrl: 'https://api.example.com/prefix',
  credentialStyle: 'url',
  knownModels: [],
  keyBaseUrl: (key) => key.vllm?.url,
};

const request: ChatCompletionRequest = {
  model: 'client-model',
  messages: [{ role: 'user', content: 'hi', name: 'ann' }],
  temperature: 0.2,
  top_k: 40,
  seed: 7,
};

describe('joinUrl', () => {
  it.each([
    ['https://api.openai.com', '/v1/chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/', '/v1/chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/v1', '/v1/chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/v1//', '/v1/embeddings', 'https://api.openai.com/v1/embeddings'],
    ['https://api.groq.com/openai', '/v1/chat/completions', 'https://api.groq.com/openai/v1/chat/completions'],
    ['https://proxy.example/v1beta', '/v1/chat/completions', 'https://proxy.example/v1beta/v1/chat/completions'],
    ['https://api.perplexity.ai', '/chat/completions', 'https://api.perplexity.ai/chat/completions'],
  ])('joins %s and %s', (base, path, expected) => {
    expect(joinUrl(base, path)).toBe(expected);
  });
});

describe('resolveBaseUrl', () => {
  it('prefers the provider base URL, then the key URL, then the default', () => {
    const key = { vllm: { url: 'http://gpu-box:8000' } };
    expect(resolveBaseUrl(description, createTestContext({ baseUrl: 'http://configured', key }))).toBe('http://configured');
    expect(resolveBaseUrl(description, createTestContext({ key }))).toBe('http://gpu-box:8000');
    expect(resolveBaseUrl(description, createTestContext())).toBe('https://api.example.com/prefix');
  });
});

describe('buildHeaders', () => {
  it('sends bearer auth, JSON and the event-stream accept header when streaming; extra headers win', () => {
    expect(buildHeaders({ apiKey: 'sk-1', stream: true, extraHeaders: { 'OpenAI-Organization': 'org-1', Accept: 'text/custom' } })).toEqual({
      authorization: 'Bearer sk-1',
      'content-type': 'application/json',
      accept: 'text/custom',
      'openai-organization': 'org-1',
    });
  });

  it('omits authorization for keyless servers and accept when not streaming', () => {
    expect(buildHeaders({ apiKey: '', stream: false })).toEqual({ 'content-type': 'application/json' });
  });
});

describe('withFieldRules', () => {
  it('returns a body no rule touches as it is', () => {
    const body = { model: 'm', max_completion_tokens: 5 };
    expect(withFieldRules(body, ['user'], { max_tokens: 'max_completion_tokens' })).toBe(body);
  });

  it('renames in place of the old member and drops, without changing the given body', () => {
    const body = { model: 'm', max_tokens: 5, user: 'u', seed: 1 };
    const ruled = withFieldRules(body, ['user'], { max_tokens: 'max_completion_tokens', seed: 'random_seed' });
    expect(JSON.stringify(ruled)).toBe('{"model":"m","max_completion_tokens":5,"random_seed":1}');
    expect(body).toEqual({ model: 'm', max_tokens: 5, user: 'u', seed: 1 });
  });

  it('keeps a value the client set under the new name, wherever it stands', () => {
    const rename = { max_tokens: 'max_completion_tokens' };
    expect(withFieldRules({ max_tokens: 5, max_completion_tokens: 7 }, [], rename)).toEqual({ max_completion_tokens: 7 });
    expect(withFieldRules({ max_completion_tokens: 7, max_tokens: 5 }, [], rename)).toEqual({ max_completion_tokens: 7 });
  });

  it('keeps a client member named __proto__ a member, and reads no rule from the prototype', () => {
    const body = JSON.parse('{"__proto__":{"polluted":true},"max_tokens":5,"toString":1}') as Record<string, unknown>;
    const ruled = withFieldRules(body, [], { max_tokens: 'max_completion_tokens' });
    expect(JSON.stringify(ruled)).toBe('{"__proto__":{"polluted":true},"max_completion_tokens":5,"toString":1}');
    expect(Object.getPrototypeOf(ruled)).toBe(Object.prototype);
  });
});

describe('buildChatBody', () => {
  it('keeps unknown fields, replaces the model and asks for usage when streaming', () => {
    const body = buildChatBody({ ...request, stream_options: { continuous_usage_stats: true } }, { model: 'upstream', stream: true });
    expect(body).toEqual({
      ...request,
      model: 'upstream',
      stream: true,
      stream_options: { continuous_usage_stats: true, include_usage: true },
    });
  });

  it('removes stream and stream_options for a non-streamed request', () => {
    const body = buildChatBody({ ...request, stream: true, stream_options: { include_usage: true } }, { model: 'upstream', stream: false });
    expect(body).not.toHaveProperty('stream');
    expect(body).not.toHaveProperty('stream_options');
  });

  it('applies drops, renames and message field drops without touching the client request', () => {
    const original = structuredClone(request);
    const body = buildChatBody(request, {
      model: 'upstream',
      stream: false,
      rules: { dropFields: ['top_k'], renameFields: { seed: 'random_seed' }, dropMessageFields: ['name'] },
    });
    expect(body).toEqual({ model: 'upstream', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, random_seed: 7 });
    expect(request).toEqual(original);
  });

  it('lets an explicit target field win over a rename', () => {
    const body = buildChatBody({ ...request, max_completion_tokens: 10, max_tokens: 5 }, {
      model: 'upstream',
      stream: false,
      rules: { renameFields: { max_completion_tokens: 'max_tokens' } },
    });
    expect(body.max_tokens).toBe(5);
    expect(body).not.toHaveProperty('max_completion_tokens');
  });

  it('drops the client stream_options when the server rejects them', () => {
    const body = buildChatBody({ ...request, stream_options: { include_usage: true } }, {
      model: 'upstream',
      stream: true,
      rules: { sendStreamOptions: false },
    });
    expect(body.stream).toBe(true);
    expect(body).not.toHaveProperty('stream_options');
  });

  it('refuses more choices than the server supports with a 400', () => {
    const attempt = () => buildChatBody({ ...request, n: 2 }, { model: 'upstream', stream: false, rules: { maxChoices: 1 } });
    expect(attempt).toThrow();
    try {
      attempt();
    } catch (error) {
      expect(isGatewayError(error) && error.status === 400 && error.param === 'n').toBe(true);
    }
    expect(buildChatBody({ ...request, n: 1 }, { model: 'upstream', stream: false, rules: { maxChoices: 1 } }).n).toBe(1);
  });
});

describe('buildChatRequest', () => {
  it('puts URL, headers and the JSON body together', () => {
    const upstream = buildChatRequest(description, request, createTestContext({ model: 'served-model', extraHeaders: { 'x-extra': '1' } }), {
      stream: false,
    });
    expect(upstream.method).toBe('POST');
    expect(upstream.url).toBe('https://api.example.com/prefix/v1/chat/completions');
    expect(upstream.headers).toMatchObject({ authorization: 'Bearer sk-test-key-0001', 'x-extra': '1' });
    expect(JSON.parse(upstream.body as string).model).toBe('served-model');
  });

  // The client's body after validation, with `fallbacks` removed by the route, as the core passes it on.
  const clientText = '{"model":"example/client-model", "messages":[{"role":"user","content":"caf\\u00e9","name":"ann"}], "temperature":1.0, "fallbacks":["x/y"], "stream":true, "seed":7}';
  const clientValues = JSON.parse(clientText) as Record<string, unknown>;
  const { fallbacks: _fallbacks, ...clientRequest } = clientValues;
  const source = { bytes: Buffer.from(clientText), values: clientValues };

  it('copies the members it keeps unchanged from the client text and serialises the changed ones', () => {
    const streamed = buildChatRequest(description, clientRequest as unknown as ChatCompletionRequest, createTestContext({ model: 'served-model' }), { stream: true, source });
    expect(new TextDecoder().decode(streamed.body as Uint8Array)).toBe(
      '{"model":"served-model","messages":[{"role":"user","content":"caf\\u00e9","name":"ann"}],"temperature":1.0,"stream":true,"seed":7,"stream_options":{"include_usage":true}}',
    );
    const plain = buildChatRequest(description, clientRequest as unknown as ChatCompletionRequest, createTestContext({ model: 'served-model' }), { stream: false, source });
    expect(new TextDecoder().decode(plain.body as Uint8Array)).toBe('{"model":"served-model","messages":[{"role":"user","content":"caf\\u00e9","name":"ann"}],"temperature":1.0,"seed":7}');
  });

  it('serialises the messages again when a rule changed them, and renamed fields under their new name', () => {
    const rules = { dropMessageFields: ['name'], renameFields: { seed: 'random_seed' } };
    const upstream = buildChatRequest({ ...description, chatRules: rules }, clientRequest as unknown as ChatCompletionRequest, createTestContext({ model: 'served-model' }), {
      stream: false,
      source,
    });
    expect(new TextDecoder().decode(upstream.body as Uint8Array)).toBe('{"model":"served-model","messages":[{"role":"user","content":"café"}],"temperature":1.0,"random_seed":7}');
  });

  it('keeps the client messages, and their text, when no message carries a dropped field', () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"h\\u00e9"}]}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const rules = { dropMessageFields: ['name'] };
    const body = buildChatBody(values as unknown as ChatCompletionRequest, { model: 'm', stream: false, rules });
    expect(body.messages).toBe(values.messages);
    const upstream = buildChatRequest({ ...description, chatRules: rules }, values as unknown as ChatCompletionRequest, createTestContext({ model: 'served' }), {
      stream: false,
      source: { bytes: Buffer.from(text), values },
    });
    expect(new TextDecoder().decode(upstream.body as Uint8Array)).toBe('{"model":"served","messages":[{"role":"user","content":"h\\u00e9"}]}');
  });
});
