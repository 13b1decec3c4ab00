import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk } from '../../spec/openai.js';
import type { ResponseObject } from '../../spec/openai-responses.js';
import { chatCompletionToResponse, responseEchoOf } from './response.js';
import { createResponsesStreamEncoder } from './stream-encoder.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
type Event = { type: string; sequence_number: number; [field: string]: unknown };

function chunk(delta: Delta, finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** Splits SSE text into events, checking each `event:` name matches its data's `type` and the numbering has no gap. */
function parse(text: string): Event[] {
  const events = text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      expect(rest).toEqual([]);
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Event;
      expect(eventLine).toBe(`event: ${data.type}`);
      return data;
    });
  expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  return events;
}

function encoder() {
  return createResponsesStreamEncoder({ id: 'resp_s', model: 'gpt-via-gateway', createdAt: 1_700_000_000, echo: responseEchoOf({ instructions: 'Hi' }), clock: () => 1_700_000_005_000 });
}

function finalResponse(events: Event[]): ResponseObject {
  const last = events.at(-1)!;
  expect(['response.completed', 'response.incomplete']).toContain(last.type);
  return last.response as ResponseObject;
}

describe('createResponsesStreamEncoder', () => {
  it('writes each kind of delta event as the serialised event object would be, whatever its text holds', () => {
    // Delta events are written as text around their serialised values; each must read back as the event object and
    // be byte for byte what serialising that object (members in the API's order) writes.
    const awkward = ['plain', 'quote " and \\ backslash', 'line\nbreak\r\ttab', 'ünïcödé 😀', '\u0000\u001f control', '</script>', '\u2028\u2029', '\ud800 lone surrogate', '{"json":[1]}'];
    for (const value of awkward) {
      const stream = encoder();
      let text = stream.push(chunk({ reasoning_content: value }));
      text += stream.push(chunk({ content: value }));
      text += stream.push(chunk({ refusal: value }));
      text += stream.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: value } }] }));
      text += stream.push(chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'custom', custom: { name: 'g', input: value } }] } as unknown as Delta));
      const events = parse(text);
      const deltas = events.filter((event) => event.type.endsWith('.delta'));
      expect(deltas.map((event) => event.type)).toEqual([
        'response.reasoning_text.delta',
        'response.output_text.delta',
        'response.refusal.delta',
        'response.function_call_arguments.delta',
        'response.custom_tool_call_input.delta',
      ]);
      const itemIds = deltas.map((event) => event.item_id as string);
      const expected = [
        { type: 'response.reasoning_text.delta', item_id: itemIds[0], output_index: 0, content_index: 0, delta: value },
        { type: 'response.output_text.delta', item_id: itemIds[1], output_index: 1, content_index: 0, delta: value, logprobs: [] },
        { type: 'response.refusal.delta', item_id: itemIds[2], output_index: 1, content_index: 1, delta: value },
        { type: 'response.function_call_arguments.delta', item_id: itemIds[3], output_index: 2, delta: value },
        { type: 'response.custom_tool_call_input.delta', item_id: itemIds[4], output_index: 3, delta: value },
      ].map((event, index) => ({ ...event, sequence_number: deltas[index]!.sequence_number }));
      expect(deltas).toEqual(expected);
      const blocks = text.split('\n\n').filter((block) => /^event: response\.[a-z_.]+\.delta\n/.test(block));
      expect(blocks).toEqual(expected.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}`));
    }
  });

  it('encodes text as one message item between response.created and response.completed', () => {
    const stream = encoder();
    let text = stream.push(chunk({ role: 'assistant', content: '' }));
    text += stream.push(chunk({ content: 'Hel' }));
    text += stream.push(chunk({ content: 'lo' }));
    text += stream.push(chunk({}, 'stop'));
    text += stream.finish({ inputTokens: 30, outputTokens: 2, cachedInputTokens: 20 });
    const events = parse(text);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[0]!.response).toMatchObject({ id: 'resp_s', object: 'response', status: 'in_progress', output: [], usage: null, instructions: 'Hi', model: 'gpt-via-gateway' });
    expect(events[0]!.response).not.toHaveProperty('completed_at');
    const itemId = (events[2]!.item as { id: string }).id;
    expect(itemId).toMatch(/^msg_/);
    expect(events[2]).toEqual({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: itemId, status: 'in_progress', role: 'assistant', content: [] }, sequence_number: 2 });
    expect(events[3]).toEqual({
      type: 'response.content_part.added',
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      sequence_number: 3,
    });
    expect(events[5]).toEqual({ type: 'response.output_text.delta', item_id: itemId, output_index: 0, content_index: 0, delta: 'lo', logprobs: [], sequence_number: 5 });
    expect(events[6]).toMatchObject({ type: 'response.output_text.done', item_id: itemId, text: 'Hello', logprobs: [] });
    const message = { type: 'message', id: itemId, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }] };
    expect(events[8]).toMatchObject({ type: 'response.output_item.done', output_index: 0, item: message });
    expect(finalResponse(events)).toMatchObject({
      status: 'completed',
      completed_at: 1_700_000_005,
      incomplete_details: null,
      output: [message],
      usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 20, cache_write_tokens: 0 }, output_tokens: 2, total_tokens: 32 },
    });
  });

  it('closes each item when the next kind starts: reasoning, then text, then one item per tool call', () => {
    const stream = encoder();
    let text = stream.push(chunk({ reasoning_content: 'Think' }));
    text += stream.push(chunk({ reasoning_content: 'ing.' }));
    text += stream.push(chunk({ content: 'Checking.' }));
    text += stream.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }));
    text += stream.push(chunk({}, 'tool_calls'));
    text += stream.finish(undefined);
    const events = parse(text);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[2]!.item).toEqual({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [], content: [] });
    expect(events[3]!.part).toEqual({ type: 'reasoning_text', text: '' });
    expect(events[6]).toMatchObject({ type: 'response.reasoning_text.done', output_index: 0, content_index: 0, text: 'Thinking.' });
    expect(events[15]!.item).toEqual({ type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_a', name: 'f', arguments: '', status: 'in_progress' });
    expect(events[18]).toMatchObject({ type: 'response.function_call_arguments.done', output_index: 2, name: 'f', arguments: '{"x":1}' });
    const response = finalResponse(events);
    expect(response.status).toBe('completed');
    expect(response.usage).toBeNull();
    expect(response.output).toEqual([
      { type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [], content: [{ type: 'reasoning_text', text: 'Thinking.' }] },
      { type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [], logprobs: [] }] },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_a', name: 'f', arguments: '{"x":1}', status: 'completed' },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_b', name: 'g', arguments: '{}', status: 'completed' },
    ]);
    // Every item of the final Response is the one its output_item.done announced.
    const done = events.filter((event) => event.type === 'response.output_item.done').map((event) => event.item);
    expect(response.output).toEqual(done);
  });

  it('ends with the Response the non-streamed translation gives for the same reply', () => {
    const stream = encoder();
    let text = stream.push(chunk({ reasoning_content: 'Plan.' }));
    text += stream.push(chunk({ content: 'Answer' }));
    text += stream.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, 'tool_calls'));
    const usage = { inputTokens: 9, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 2 };
    const streamed = finalResponse(parse(text + stream.finish(usage)));
    const completion: ChatCompletion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'upstream',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Answer', reasoning_content: 'Plan.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
    };
    const direct = chatCompletionToResponse(completion, { id: 'resp_s', model: 'gpt-via-gateway', createdAt: 1_700_000_000, completedAt: 1_700_000_005, echo: responseEchoOf({ instructions: 'Hi' }), usage });
    const withoutIds = (response: ResponseObject) => ({ ...response, output: response.output.map((item) => ({ ...item, id: item.id.split('_')[0] })) });
    expect(withoutIds(streamed)).toEqual(withoutIds(direct));
  });

  it('reports a reply cut by the token limit as response.incomplete, its open item incomplete', () => {
    const stream = encoder();
    const events = parse(stream.push(chunk({ content: 'Once upon' })) + stream.push(chunk({ content: ' a' }, 'length')) + stream.finish(undefined));
    expect(events.at(-2)).toMatchObject({ type: 'response.output_item.done', item: { type: 'message', status: 'incomplete' } });
    const response = finalResponse(events);
    expect(events.at(-1)!.type).toBe('response.incomplete');
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ status: 'incomplete' }] });
    expect(response).not.toHaveProperty('completed_at');
  });

  it('streams a refusal as a refusal part of the message', () => {
    const stream = encoder();
    const events = parse(stream.push(chunk({ refusal: 'I cannot ' })) + stream.push(chunk({ refusal: 'help.' }, 'stop')) + stream.finish(undefined));
    expect(events.slice(2).map((event) => event.type)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[3]!.part).toEqual({ type: 'refusal', refusal: '' });
    expect(events[6]).toMatchObject({ refusal: 'I cannot help.' });
    expect(finalResponse(events).output).toEqual([{ type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help.' }] }]);
  });

  it('takes usage from a usage-only chunk, which writes nothing itself', () => {
    const stream = encoder();
    let text = stream.push(chunk({ content: 'x' }, 'stop'));
    const usageOnly = stream.push({ ...chunk({}), choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14, completion_tokens_details: { reasoning_tokens: 2 } } });
    expect(usageOnly).toBe('');
    text += stream.finish(undefined);
    expect(finalResponse(parse(text)).usage).toEqual({
      input_tokens: 9,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 14,
    });
  });

  it('starts the stream at finish when nothing was pushed, and then writes nothing more', () => {
    const stream = encoder();
    const events = parse(stream.finish(undefined));
    expect(events.map((event) => event.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
    expect(finalResponse(events).output).toEqual([]);
    expect(stream.push(chunk({ content: 'late' }))).toBe('');
    expect(stream.finish(undefined)).toBe('');
    expect(stream.fail({ type: 'server_error', message: 'x' })).toBe('');
  });

  it('treats a different id at a known tool call index as a new call, and a late fragment completes its call', () => {
    const stream = encoder();
    let text = stream.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 1, id: 'call_c', type: 'function', function: { name: 'h', arguments: '{"c":' } }] }));
    text += stream.push(chunk({ tool_calls: [{ index: 1, function: { arguments: '3}' } }] }, 'tool_calls'));
    const response = finalResponse(parse(text + stream.finish(undefined)));
    expect(response.output.map((item) => (item.type === 'function_call' ? [item.call_id, item.name, item.arguments] : []))).toEqual([
      ['call_a', 'f', '{"a":'],
      ['call_b', 'g', '{}'],
      ['call_c', 'h', '{"c":3}'],
    ]);
  });

  it('ends a failed stream with an error event, flat and nested, and nothing after it', () => {
    const stream = encoder();
    const text = stream.push(chunk({ content: 'par' })) + stream.fail({ type: 'service_unavailable_error', code: 'upstream_overloaded', message: 'Upstream overloaded' });
    const events = parse(text);
    expect(events.at(-1)).toEqual({
      type: 'error',
      code: 'upstream_overloaded',
      message: 'Upstream overloaded',
      param: null,
      error: { type: 'service_unavailable_error', code: 'upstream_overloaded', message: 'Upstream overloaded', param: null },
      sequence_number: 5,
    });
    expect(events.map((event) => event.type)).not.toContain('response.output_item.done');
    expect(stream.push(chunk({ content: 'more' }))).toBe('');
    expect(stream.finish(undefined)).toBe('');
  });

  it('fails a stream that has not started with the error event alone, its type standing in for a missing code', () => {
    const events = parse(encoder().fail({ type: 'timeout_error', message: 'Upstream timed out' }));
    expect(events).toEqual([
      { type: 'error', code: 'timeout_error', message: 'Upstream timed out', param: null, error: { type: 'timeout_error', code: null, message: 'Upstream timed out', param: null }, sequence_number: 0 },
    ]);
  });
});
