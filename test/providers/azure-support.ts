/** Azure OpenAI replies the Azure mock does not produce on its own: tool calls, plain and streamed. */
import type { AzureMock } from '../mocks/azure-mock.js';
import type { ScriptedToolCall } from './sdk-matrix.js';

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
