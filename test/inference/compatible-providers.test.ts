/**
 * The official `openai` SDK, pointed at Tollgate, against every OpenAI-compatible provider: chat (plain, streamed,
 * with tools, streamed with tools) and embeddings (or a clear 400 where the provider has none). Each provider sits
 * in front of its own mock serving the provider's real path prefix, so a wrong URL or a wrong key fails the test.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockEmbedding, startOpenAIMock, type OpenAIMock, type RecordedRequest } from '../mocks/openai-mock.js';
import { startPerplexityMock, type PerplexityMock } from '../mocks/perplexity-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { readChatStream } from './inference-helpers.js';

/** What a provider's server saw: the path it was asked for, and the request as the mock recorded it. */
interface Seen {
  path: string;
  request: RecordedRequest;
}

interface ProviderCase {
  /** The provider's name in Tollgate. */
  provider: string;
  /** The model as the provider knows it; clients ask for `<provider>/<model>`. */
  chatModel: string;
  embeddingModel?: string;
  /** The paths the provider serves, as its server sees them. */
  chatPath: string;
  embeddingsPath?: string;
  /** The bearer the upstream must receive; undefined when it must receive none. */
  upstreamKey: string | undefined;
  /** Ollama's compatibility layer does not do tool_choice: Tollgate drops it and the upstream decides. */
  dropsToolChoice?: boolean;
  /** Set up in beforeAll: the mocks and the gateway configuration. */
  start(tollgate: LiveGateway): Promise<{ last: () => Seen; lastEmbedding?: () => Seen; enqueue: OpenAIMock['enqueue']; chatMock?: OpenAIMock; embeddingMock?: OpenAIMock }>;
}

const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };
const mocks: Array<{ close(): Promise<void> }> = [];

/** A built-in provider whose `base_url` points at a mock serving its path prefix. */
function hosted(provider: string, options: { prefix?: string; chatModel: string; embeddingModel?: string }): ProviderCase {
  const key = `sk-${provider}-upstream-0001`;
  const prefix = options.prefix ?? '';
  return {
    provider,
    chatModel: options.chatModel,
    ...(options.embeddingModel ? { embeddingModel: options.embeddingModel, embeddingsPath: `${prefix}/v1/embeddings` } : {}),
    chatPath: `${prefix}/v1/chat/completions`,
    upstreamKey: key,
    async start(tollgate) {
      const mock = await startOpenAIMock({ apiKeys: [key], pathPrefix: prefix });
      mocks.push(mock);
      await tollgate.configureProvider(provider, { network_config: { base_url: mock.baseUrl, ...fast } });
      await tollgate.addKey(provider, { name: `${provider}-main`, value: key });
      const last = () => {
        const request = mock.requests.at(-1)!;
        return { path: request.path, request };
      };
      return { last, enqueue: (behavior) => mock.enqueue(behavior), chatMock: mock, embeddingMock: mock };
    },
  };
}

const cases: ProviderCase[] = [
  hosted('openai', { chatModel: 'gpt-4o', embeddingModel: 'text-embedding-3-small' }),
  hosted('groq', { prefix: '/openai', chatModel: 'llama-3.3-70b-versatile' }),
  hosted('mistral', { chatModel: 'mistral-small-latest', embeddingModel: 'mistral-embed' }),
  hosted('deepseek', { chatModel: 'deepseek-chat' }),
  hosted('together', { chatModel: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', embeddingModel: 'BAAI/bge-large-en-v1.5' }),
  hosted('openrouter', { prefix: '/api', chatModel: 'openai/gpt-4o', embeddingModel: 'openai/text-embedding-3-small' }),
  hosted('xai', { chatModel: 'grok-4' }),
  hosted('fireworks', {
    prefix: '/inference',
    chatModel: 'accounts/fireworks/models/llama-v3p3-70b-instruct',
    embeddingModel: 'nomic-ai/nomic-embed-text-v1.5',
  }),
  hosted('cerebras', { chatModel: 'llama-3.3-70b' }),
  {
    provider: 'perplexity',
    chatModel: 'sonar',
    chatPath: '/chat/completions',
    upstreamKey: 'pplx-upstream-0001',
    async start(tollgate) {
      const mock: PerplexityMock = await startPerplexityMock({ apiKeys: ['pplx-upstream-0001'] });
      mocks.push(mock);
      await tollgate.configureProvider('perplexity', { network_config: { base_url: mock.baseUrl, ...fast } });
      await tollgate.addKey('perplexity', { name: 'pplx', value: 'pplx-upstream-0001' });
      return {
        last: () => ({ path: mock.paths.at(-1)!.split(' ')[1]!, request: mock.inner.requests.at(-1)! }),
        enqueue: (behavior) => mock.inner.enqueue(behavior),
      };
    },
  },
  {
    // Two vLLM servers, each key naming its own URL and the one model its server was started with. The model
    // names hold a slash: `vllm/meta-llama/...` is split on the first one.
    provider: 'vllm',
    chatModel: 'meta-llama/Meta-Llama-3-8B-Instruct',
    embeddingModel: 'BAAI/bge-m3',
    chatPath: '/v1/chat/completions',
    embeddingsPath: '/v1/embeddings',
    upstreamKey: 'vllm-token-0001',
    async start(tollgate) {
      const chat = await startOpenAIMock({ apiKeys: ['vllm-token-0001'] });
      const embed = await startOpenAIMock({ apiKeys: ['vllm-token-0001'] });
      mocks.push(chat, embed);
      await tollgate.configureProvider('vllm', { network_config: fast });
      await tollgate.addKey('vllm', {
        name: 'vllm-chat',
        value: 'vllm-token-0001',
        vllm_key_config: { url: chat.baseUrl, model_name: 'meta-llama/Meta-Llama-3-8B-Instruct' },
      });
      await tollgate.addKey('vllm', {
        name: 'vllm-embed',
        value: 'vllm-token-0001',
        vllm_key_config: { url: embed.baseUrl, model_name: 'BAAI/bge-m3' },
      });
      return {
        last: () => ({ path: chat.requests.at(-1)!.path, request: chat.requests.at(-1)! }),
        lastEmbedding: () => ({ path: embed.requests.at(-1)!.path, request: embed.requests.at(-1)! }),
        enqueue: (behavior) => chat.enqueue(behavior),
        chatMock: chat,
        embeddingMock: embed,
      };
    },
  },
  {
    provider: 'sgl',
    chatModel: 'qwen2.5-7b-instruct',
    embeddingModel: 'gte-qwen2',
    chatPath: '/v1/chat/completions',
    embeddingsPath: '/v1/embeddings',
    upstreamKey: 'sgl-token-0001',
    async start(tollgate) {
      const mock = await startOpenAIMock({ apiKeys: ['sgl-token-0001'] });
      mocks.push(mock);
      await tollgate.configureProvider('sgl', { network_config: fast });
      await tollgate.addKey('sgl', { name: 'sgl', value: 'sgl-token-0001', sgl_key_config: { url: mock.baseUrl } });
      return { last: () => ({ path: mock.requests.at(-1)!.path, request: mock.requests.at(-1)! }), enqueue: (behavior) => mock.enqueue(behavior), chatMock: mock };
    },
  },
  {
    // Ollama needs no key: the key only names the server.
    provider: 'ollama',
    chatModel: 'llama3.2',
    embeddingModel: 'nomic-embed-text',
    chatPath: '/v1/chat/completions',
    embeddingsPath: '/v1/embeddings',
    upstreamKey: undefined,
    dropsToolChoice: true,
    async start(tollgate) {
      const mock = await startOpenAIMock();
      mocks.push(mock);
      await tollgate.configureProvider('ollama', { network_config: fast });
      await tollgate.addKey('ollama', { name: 'ollama', ollama_key_config: { url: mock.baseUrl } });
      return { last: () => ({ path: mock.requests.at(-1)!.path, request: mock.requests.at(-1)! }), enqueue: (behavior) => mock.enqueue(behavior), chatMock: mock };
    },
  },
  {
    provider: 'acme-openai',
    chatModel: 'acme-large',
    embeddingModel: 'acme-embed',
    chatPath: '/llm/v1/chat/completions',
    embeddingsPath: '/llm/v1/embeddings',
    upstreamKey: 'acme-upstream-0001',
    async start(tollgate) {
      const mock = await startOpenAIMock({ apiKeys: ['acme-upstream-0001'], pathPrefix: '/llm' });
      mocks.push(mock);
      const created = await tollgate.request({
        method: 'POST',
        url: '/api/providers',
        body: { provider: 'acme-openai', custom_provider_config: { base_provider_type: 'openai' }, network_config: { base_url: mock.baseUrl, ...fast } },
      });
      expect(created.status).toBe(201);
      await tollgate.addKey('acme-openai', { name: 'acme', value: 'acme-upstream-0001' });
      return { last: () => ({ path: mock.requests.at(-1)!.path, request: mock.requests.at(-1)! }), enqueue: (behavior) => mock.enqueue(behavior) };
    },
  },
  {
    // A keyless custom provider: no key exists, none is sent.
    provider: 'local-open',
    chatModel: 'tiny-chat',
    embeddingModel: 'tiny-embed',
    chatPath: '/v1/chat/completions',
    embeddingsPath: '/v1/embeddings',
    upstreamKey: undefined,
    async start(tollgate) {
      const mock = await startOpenAIMock();
      mocks.push(mock);
      const created = await tollgate.request({
        method: 'POST',
        url: '/api/providers',
        body: {
          provider: 'local-open',
          custom_provider_config: { base_provider_type: 'openai', is_key_less: true },
          network_config: { base_url: mock.baseUrl, ...fast },
        },
      });
      expect(created.status).toBe(201);
      return { last: () => ({ path: mock.requests.at(-1)!.path, request: mock.requests.at(-1)! }), enqueue: (behavior) => mock.enqueue(behavior) };
    },
  },
];

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** The reply of a server that chose to call the tool by itself (Ollama decides without tool_choice). */
function selfChosenToolCall(model: string): unknown {
  return {
    id: 'chatcmpl-ollama1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_ollama1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
  };
}

function selfChosenToolCallChunks(model: string): unknown[] {
  const envelope = { id: 'chatcmpl-ollama2', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  return [
    { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_ollama2', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }] },
    { ...envelope, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] },
    { ...envelope, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null }] },
    { ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { ...envelope, choices: [], usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 } },
  ];
}

let tollgate: LiveGateway;
let client: OpenAI;
const started = new Map<string, Awaited<ReturnType<ProviderCase['start']>>>();

beforeAll(async () => {
  tollgate = await startLiveGateway();
  client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
  for (const entry of cases) started.set(entry.provider, await entry.start(tollgate));
});

afterAll(async () => {
  await tollgate.dispose();
  await Promise.all(mocks.map((mock) => mock.close()));
});

describe.each(cases)('OpenAI SDK through Tollgate to $provider', (entry) => {
  const model = `${entry.provider}/${entry.chatModel}`;
  const upstreamChatModel = entry.chatModel;
  const setup = () => started.get(entry.provider)!;

  const expectUpstream = (seen: Seen, path: string, upstreamModel: string) => {
    expect(seen.path).toBe(path);
    expect(seen.request.headers.authorization).toBe(entry.upstreamKey === undefined ? undefined : `Bearer ${entry.upstreamKey}`);
    expect((seen.request.body as { model: string }).model).toBe(upstreamModel);
  };

  it('completes a chat without streaming', async () => {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `hello ${entry.provider}` }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toBe(`hello ${entry.provider}`);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-tollgate-provider')).toBe(entry.provider);
    expectUpstream(setup().last(), entry.chatPath, upstreamChatModel);
  });

  it('streams a chat, with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `stream three words` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await readChatStream(stream);
    expect(text).toBe('stream three words');
    expect(finish).toBe('stop');
    const seen = setup().last();
    expectUpstream(seen, entry.chatPath, upstreamChatModel);
    expect((seen.request.body as { stream: boolean }).stream).toBe(true);
    if (entry.provider === 'mistral') {
      // Mistral rejects stream_options; its own last chunk carries usage, which this mock does not imitate.
      expect((seen.request.body as { stream_options?: unknown }).stream_options).toBeUndefined();
    } else {
      expect(usage?.completion_tokens).toBeGreaterThan(0);
    }
  });

  it('calls a tool without streaming', async () => {
    if (entry.dropsToolChoice) setup().enqueue({ status: 200, body: selfChosenToolCall(upstreamChatModel) });
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weatherTool],
      tool_choice: 'required',
    });
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(JSON.parse(call.type === 'function' ? call.function.arguments : '{}')).toEqual(entry.dropsToolChoice ? { city: 'Paris' } : { input: 'Paris' });
    const sent = setup().last().request.body as { tools: unknown[]; tool_choice?: unknown };
    expect(sent.tools).toEqual([weatherTool]);
    expect(sent.tool_choice).toBe(entry.dropsToolChoice ? undefined : 'required');
  });

  it('streams a tool call', async () => {
    if (entry.dropsToolChoice) setup().enqueue({ streamChunks: selfChosenToolCallChunks(upstreamChatModel) });
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stream: true,
    });
    let name = '';
    let argumentsText = '';
    let finish: string | null | undefined;
    let sawUsage = false;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      name += call?.function?.name ?? '';
      argumentsText += call?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) sawUsage = true;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(argumentsText)).toEqual(entry.dropsToolChoice ? { city: 'Paris' } : { input: 'Paris' });
    expect(finish).toBe('tool_calls');
    // The client did not ask for usage, so the chunk Tollgate requested for metering is not relayed.
    expect(sawUsage).toBe(false);
  });

  if (entry.embeddingModel) {
    const embeddingModel = entry.embeddingModel;
    it('embeds, in float and in the SDK default base64', async () => {
      const floats = await client.embeddings.create({ model: `${entry.provider}/${embeddingModel}`, input: ['alpha', 'beta'], encoding_format: 'float' });
      expect(floats.data.map((item) => item.embedding)).toEqual([mockEmbedding('alpha'), mockEmbedding('beta')]);
      expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
      expectUpstream((setup().lastEmbedding ?? setup().last)(), entry.embeddingsPath!, embeddingModel);
      const decoded = await client.embeddings.create({ model: `${entry.provider}/${embeddingModel}`, input: 'alpha' });
      expect(decoded.data[0]!.embedding).toEqual(mockEmbedding('alpha'));
    });
  } else {
    it('refuses embeddings with a 400 naming the provider', async () => {
      const error = await client.embeddings.create({ model: `${entry.provider}/some-embedder`, input: 'alpha' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as Error).message).toContain(`"${entry.provider}" does not offer embeddings`);
    });
  }
});

describe('OpenAI SDK through Tollgate: per-key servers', () => {
  it('sends each vLLM model to the server of the key that serves it', async () => {
    const vllm = started.get('vllm')!;
    const chatBefore = vllm.chatMock!.requests.length;
    const embedBefore = vllm.embeddingMock!.requests.length;
    await client.chat.completions.create({ model: 'vllm/meta-llama/Meta-Llama-3-8B-Instruct', messages: [{ role: 'user', content: 'x' }] });
    await client.embeddings.create({ model: 'vllm/BAAI/bge-m3', input: 'x' });
    expect(vllm.chatMock!.requests.length).toBe(chatBefore + 1);
    expect(vllm.embeddingMock!.requests.length).toBe(embedBefore + 1);
  });

  it('refuses a vLLM model no key serves (model_name is the one model a key serves)', async () => {
    const error = await client.chat.completions.create({ model: 'vllm/unknown-model', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('no enabled key that serves model "unknown-model"');
  });

  it('names the keyless slot as the key that served', async () => {
    const { response } = await client.chat.completions.create({ model: 'local-open/tiny-chat', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(response.headers.get('x-tollgate-provider')).toBe('local-open');
    expect(response.headers.get('x-tollgate-key-id')).toBe('keyless:local-open');
  });
});
