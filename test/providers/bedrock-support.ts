/** Bedrock replies the Bedrock mock does not produce on its own: Converse and InvokeModel tool calls, plain and streamed. */
import { claudeStreamEvents, type BedrockMock, type ClaudeMessage, type RecordedBedrockRequest } from '../mocks/bedrock-mock.js';
import type { ScriptedToolCall } from './sdk-matrix.js';

const usage = { inputTokens: 30, outputTokens: 12, totalTokens: 42 };

/** Queues Bedrock's answer to the next Converse call: a toolUse of `call.name`. */
export function scriptBedrockToolCall(mock: BedrockMock, call: ScriptedToolCall, stream: boolean): void {
  if (!stream) {
    mock.enqueue({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: call.id, name: call.name, input: call.arguments } }] } },
        stopReason: 'tool_use',
        usage,
        metrics: { latencyMs: 12 },
      },
    });
    return;
  }
  const args = JSON.stringify(call.arguments);
  const half = Math.ceil(args.length / 2);
  mock.enqueue({
    streamEvents: [
      { type: 'messageStart', payload: { role: 'assistant' } },
      { type: 'contentBlockStart', payload: { contentBlockIndex: 0, start: { toolUse: { toolUseId: call.id, name: call.name } } } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: args.slice(0, half) } } } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: args.slice(half) } } } },
      { type: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
      { type: 'messageStop', payload: { stopReason: 'tool_use' } },
      { type: 'metadata', payload: { usage, metrics: { latencyMs: 12 } } },
    ],
  });
}

/** The Converse / ConverseStream calls among what the mock received. */
export function converseRequests(mock: BedrockMock): RecordedBedrockRequest[] {
  return mock.requests.filter((request) => request.operation === 'converse' || request.operation === 'converse-stream');
}

/** The InvokeModel calls (embeddings) among what the mock received. */
export function invokeRequests(mock: BedrockMock): RecordedBedrockRequest[] {
  return mock.requests.filter((request) => request.operation === 'invoke');
}

/** Queues Claude's answer to the next InvokeModel call (a Messages request sent as written): a tool_use of `call.name`. */
export function scriptClaudeInvokeToolCall(mock: BedrockMock, call: ScriptedToolCall, stream: boolean): void {
  const message: ClaudeMessage = {
    id: 'msg_bdrk_01ToolCallScripted00000',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
    content: [{ type: 'tool_use', id: call.id, name: call.name, input: call.arguments }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 12 },
  };
  if (stream) mock.enqueue({ claudeEvents: claudeStreamEvents(message) });
  else mock.enqueue({ status: 200, body: message });
}

/** The InvokeModel calls that carried a Messages request to Claude, plain or streamed. */
export function claudeInvokeRequests(mock: BedrockMock): RecordedBedrockRequest[] {
  return mock.requests.filter((request) => (request.operation === 'invoke' || request.operation === 'invoke-with-response-stream') && (request.modelId ?? '').includes('anthropic.claude'));
}
