/**
 * Claude's answer calling a tool, in Anthropic's shapes: the message a non-streamed reply carries, and the events a
 * streamed one sends (the call's input split over two deltas). For mocks of Claude's hosts that do not call tools on
 * their own (Vertex's Anthropic publisher, Azure's Claude deployments).
 */
import type { ScriptedToolCall } from '../providers/sdk-matrix.js';

/** One server-sent event as the mocks take it: its name and its JSON payload. */
export interface ClaudeEvent {
  event: string;
  data: Record<string, unknown>;
}

/** The message and the event stream of a reply that calls `call.name` with `call.arguments`. */
export function claudeToolCallReply(call: ScriptedToolCall, model: string, messageId: string): { message: Record<string, unknown>; events: ClaudeEvent[] } {
  const usage = { input_tokens: 30, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const message = {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'tool_use', id: call.id, name: call.name, input: call.arguments }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage,
  };
  const args = JSON.stringify(call.arguments);
  const half = Math.ceil(args.length / 2);
  const event = (name: string, data: Record<string, unknown>): ClaudeEvent => ({ event: name, data: { type: name, ...data } });
  const events = [
    event('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }),
    event('content_block_start', { index: 0, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }),
    event('ping', {}),
    event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: args.slice(0, half) } }),
    event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: args.slice(half) } }),
    event('content_block_stop', { index: 0 }),
    event('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 12 } }),
    event('message_stop', {}),
  ];
  return { message, events };
}
