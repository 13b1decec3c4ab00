import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import { createMessagesStreamEncoder } from './stream-encoder.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

function chunk(delta: Delta, finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** Splits SSE text into events, checking that each `event:` name matches its data's `type`. */
function parse(text: string): Array<{ type: string; [field: string]: unknown }> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      expect(rest).toEqual([]);
      const data = JSON.parse(dataLine!.slice('data: '.length)) as { type: string };
      expect(eventLine).toBe(`event: ${data.type}`);
      return data;
    });
}

describe('createMessagesStreamEncoder', () => {
  it('writes each kind of delta as the serialised event object would be, whatever its text holds', () => {
    // The deltas are written as text around their serialised value; each must read back as the event object and be
    // byte for byte what serialising that object writes.
    const awkward = ['plain', 'quote " and \\ backslash', 'line\nbreak\r\ttab', 'ünïcödé 😀', '\u0000\u001f control', '</script>', '\u2028\u2029', '\ud800 lone surrogate', '{"json":[1]}'];
    for (const value of awkward) {
      const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_1' });
      let text = encoder.push(chunk({ reasoning_content: value, reasoning_signature: value } as Delta));
      text += encoder.push(chunk({ content: value }));
      text += encoder.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: value } }] }));
      const deltas = text.split('\n\n').filter((block) => block.startsWith('event: content_block_delta\n'));
      const expected = [
        { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: value } },
        { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: value } },
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: value } },
        { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: value } },
      ];
      expect(deltas).toEqual(expected.map((event) => `event: content_block_delta\ndata: ${JSON.stringify(event)}`));
      expect(parse(text).filter((event) => event.type === 'content_block_delta')).toEqual(expected);
    }
  });

  it('encodes text as one text block between message_start and message_stop', () => {
    const encoder = createMessagesStreamEncoder({ model: 'claude-via-gateway', messageId: 'msg_1', usageSoFar: () => ({ inputTokens: 40, outputTokens: 1, cachedInputTokens: 20, cacheWriteTokens: 8 }) });
    let text = encoder.push(chunk({ role: 'assistant', content: '' }));
    text += encoder.push(chunk({ content: 'Hel' }));
    text += encoder.push(chunk({ content: 'lo' }));
    text += encoder.push(chunk({}, 'stop'));
    text += encoder.finish({ inputTokens: 30, outputTokens: 2, cachedInputTokens: 20, cacheWriteTokens: 4 });
    const events = parse(text);
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-via-gateway',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1, cache_creation_input_tokens: 8, cache_read_input_tokens: 20 },
      },
    });
    expect(events[2]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[4]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } });
    expect(events[6]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 6, output_tokens: 2, cache_creation_input_tokens: 4, cache_read_input_tokens: 20 },
    });
  });

  it('gives each tool call its own tool_use block, with consecutive indexes after the text', () => {
    const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_2' });
    let text = encoder.push(chunk({ role: 'assistant', content: 'Checking.' }));
    text += encoder.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }));
    text += encoder.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }));
    text += encoder.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }));
    text += encoder.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }));
    text += encoder.push(chunk({}, 'tool_calls'));
    text += encoder.push({ ...chunk({}), choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } });
    text += encoder.finish(undefined);
    const events = parse(text);
    const starts = events.filter((event) => event.type === 'content_block_start');
    expect(starts).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'f', input: {} } },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_b', name: 'g', input: {} } },
    ]);
    const jsonDeltas = events.filter((event) => event.type === 'content_block_delta' && (event.delta as { type: string }).type === 'input_json_delta');
    expect(jsonDeltas.map((event) => [event.index, (event.delta as { partial_json: string }).partial_json])).toEqual([
      [1, '{"x":'],
      [1, '1}'],
      [2, '{}'],
    ]);
    // Every block is closed before the next opens.
    const order = events.filter((event) => event.type.startsWith('content_block_') && event.type !== 'content_block_delta');
    expect(order.map((event) => `${event.type === 'content_block_start' ? 'start' : 'stop'}:${String(event.index)}`)).toEqual([
      'start:0',
      'stop:0',
      'start:1',
      'stop:1',
      'start:2',
      'stop:2',
    ]);
    expect(events.find((event) => event.type === 'message_delta')).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('encodes reasoning as a thinking block with its signature, redacted thinking as its own block', () => {
    const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_3' });
    let text = encoder.push(chunk({ reasoning_content: 'Let me think' }));
    text += encoder.push(chunk({ reasoning_signature: 'sig==' }));
    text += encoder.push(chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }] }));
    text += encoder.push(chunk({ content: 'Answer' }, 'stop'));
    text += encoder.push(chunk({ refusal: ', refused.' }));
    text += encoder.finish(undefined);
    const events = parse(text).filter((event) => event.type.startsWith('content_block'));
    expect(events).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig==' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Answer' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: ', refused.' } },
      { type: 'content_block_stop', index: 2 },
    ]);
  });

  it('writes nothing until the first chunk, and a whole empty message when none came', () => {
    const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_4' });
    const events = parse(encoder.finish(undefined));
    expect(events.map((event) => event.type)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(encoder.push(chunk({ content: 'late' }))).toBe('');
    expect(encoder.fail({ type: 'server_error', message: 'late' })).toBe('');
  });

  it('fails with an error event in Anthropic terms, after which nothing is written', () => {
    const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_5' });
    encoder.push(chunk({ content: 'partial' }));
    expect(parse(encoder.fail({ type: 'service_unavailable_error', message: 'Upstream overloaded' }))).toEqual([
      { type: 'error', error: { type: 'overloaded_error', message: 'Upstream overloaded' } },
    ]);
    expect(encoder.finish(undefined)).toBe('');
  });
});
