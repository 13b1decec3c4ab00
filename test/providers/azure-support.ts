/** Azure OpenAI replies the Azure mock does not produce on its own (tool calls, plain and streamed), and the SDK matrix's case for an Azure key. */
import { azureMockEmbedding, type AzureMock } from '../mocks/azure-mock.js';
import type { LiveGateway } from '../support/live-gateway.js';
import type { ProviderUnderTest, ScriptedToolCall } from './sdk-matrix.js';

const SAFE = { filtered: false, severity: 'safe' };
const FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const base = { id: 'chatcmpl-azure-tool', created: 1_700_000_000, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_mock' };
const usage = { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 };

/** Queues Azure's answer to the next chat: a call of `call.name`, as Azure shapes it (content filter annotations included). */
export function scriptAzureToolCall(mock: AzureMock, call: ScriptedToolCall, stream: boolean): void {
  const args = JSON.stringify(call.arguments);
  if (!stream) {
    mock.enqueue({
      status: 200,
      body: {
        ...base,
        object: 'chat.completion',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_RESULTS }],
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            logprobs: null,
            message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: args } }] },
            content_filter_results: {},
          },
        ],
        usage,
      },
    });
    return;
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ ...base, object: 'chat.completion.chunk', choices, ...extra });
  const half = Math.ceil(args.length / 2);
  mock.enqueue({
    streamChunks: [
      { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_RESULTS }] },
      chunk([
        {
          index: 0,
          delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
          finish_reason: null,
          logprobs: null,
          content_filter_results: {},
        },
      ]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(0, half) } }] }, finish_reason: null, logprobs: null, content_filter_results: {} }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] }, finish_reason: null, logprobs: null, content_filter_results: {} }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls', logprobs: null }]),
      chunk([], { usage }),
    ],
  });
}

/**
 * The SDK matrix's case for the Azure key `headers` pin, on the Azure mock: chats to `azure/gpt-4o` and embeddings to
 * `azure/text-embedding-3-small`, whose upstream bodies are read from the last request whose path starts with
 * `chatPath` or `embeddingsPath` (so that a case also checks which of Azure's surfaces its requests reached).
 */
export function azureMatrixCase(options: {
  gateway: () => LiveGateway;
  mock: () => AzureMock;
  headers: () => Record<string, string>;
  chatPath: string;
  embeddingsPath: string;
}): ProviderUnderTest {
  const lastBody = (path: string) => options.mock().requests.filter((request) => request.url.startsWith(path)).at(-1)?.body;
  return {
    gateway: options.gateway,
    chatModel: 'azure/gpt-4o',
    get headers() {
      return options.headers();
    },
    replyTo: (prompt: string) => `Echo: ${prompt}`,
    lastChatBody: () => lastBody(options.chatPath),
    upstreamRequestCount: () => options.mock().requests.length,
    tools: { kind: 'scripted', script: (call: ScriptedToolCall, stream: boolean) => scriptAzureToolCall(options.mock(), call, stream) },
    toolResultsCarryIds: true,
    embeddings: {
      model: 'azure/text-embedding-3-small',
      expected: (text: string) => azureMockEmbedding(text, 8),
      lastBody: () => lastBody(options.embeddingsPath),
    },
  };
}
