import { describe, expect, it } from 'vitest';
import { inputItemType, responsesRequestSchema } from './responses-request.js';

/** The paths of the issues a body fails with, joined as the error handler names the field. */
function failedPaths(body: unknown): string[] {
  const result = responsesRequestSchema.safeParse(body);
  if (result.success) throw new Error('expected the body to fail');
  return result.error.issues.map((issue) => issue.path.join('.'));
}

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather at a place',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: true,
};

describe('responsesRequestSchema', () => {
  it('accepts a string input with the sampling fields', () => {
    const body = {
      model: 'gpt-4.1',
      input: 'Hello',
      instructions: 'Be brief.',
      max_output_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      stream: true,
      store: false,
      metadata: { team: 'a' },
      reasoning: { effort: 'low', summary: 'auto' },
      fallbacks: ['gpt-4o'],
    };
    expect(responsesRequestSchema.parse(body)).toEqual(body);
  });

  it('accepts items of every kind, with and without type', () => {
    const body = {
      model: 'gpt-4.1',
      input: [
        { role: 'developer', content: 'Rules' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'More rules' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look' },
            { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
            { type: 'input_image', file_id: 'file-1', detail: 'auto' },
            { type: 'input_file', file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Thinking' }], encrypted_content: 'opaque' },
        {
          type: 'message',
          id: 'msg_1',
          status: 'completed',
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'Checking', annotations: [] },
            { type: 'refusal', refusal: 'No' },
          ],
        },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{}', status: 'completed' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: '18°C' }] },
        { type: 'function_call_output', call_id: 'call_2', output: 'plain' },
        { type: 'item_reference', id: 'msg_0' },
        { id: 'msg_2' },
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
      ],
    };
    expect(responsesRequestSchema.parse(body)).toEqual(body);
  });

  it('accepts function tools, hosted tools (for the translation to refuse) and a forced function', () => {
    const body = { model: 'm', input: 'x', tools: [weatherTool, { type: 'web_search' }], tool_choice: { type: 'function', name: 'get_weather' } };
    expect(responsesRequestSchema.parse(body)).toEqual(body);
    expect(responsesRequestSchema.safeParse({ model: 'm', input: 'x', tool_choice: 'required' }).success).toBe(true);
  });

  it('accepts a json_schema text format', () => {
    const body = {
      model: 'm',
      input: 'x',
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true, description: 'd' }, verbosity: 'low' },
    };
    expect(responsesRequestSchema.parse(body)).toEqual(body);
  });

  it('keeps unknown fields', () => {
    const body = { model: 'm', input: 'x', prompt_cache_retention: '24h', context_management: [{ type: 'compaction' }] };
    expect(responsesRequestSchema.parse(body)).toEqual(body);
  });

  it.each([
    ['a missing model', { input: 'x' }, 'model'],
    ['a numeric input', { model: 'm', input: 5 }, 'input'],
    ['an unknown role', { model: 'm', input: [{ role: 'tool', content: 'x' }] }, 'input.0.role'],
    ['a typeless item with neither role nor id', { model: 'm', input: [{ content: 'x' }] }, 'input.0.role'],
    ['message content of the wrong type', { model: 'm', input: [{ role: 'user', content: 5 }] }, 'input.0.content'],
    ['an input_text part without text', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'input.0.content.0.text'],
    ['an image_url that is not a string', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 5 }] }] }, 'input.0.content.0.image_url'],
    ['a function call without call_id', { model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input.0.call_id'],
    ['function call arguments given as an object', { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] }, 'input.0.arguments'],
    ['a function call output without call_id', { model: 'm', input: [{ type: 'function_call_output', output: 'x' }] }, 'input.0.call_id'],
    ['a numeric function call output', { model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 5 }] }, 'input.0.output'],
    ['a reasoning item without summary', { model: 'm', input: [{ type: 'reasoning', id: 'rs' }] }, 'input.0.summary'],
    ['an item reference without id', { model: 'm', input: [{ type: 'item_reference' }] }, 'input.0.id'],
    ['a function tool without name', { model: 'm', input: 'x', tools: [{ type: 'function' }] }, 'tools.0.name'],
    ['function parameters that are not an object', { model: 'm', input: 'x', tools: [{ type: 'function', name: 'f', parameters: 'x' }] }, 'tools.0.parameters'],
    ['an unknown tool_choice string', { model: 'm', input: 'x', tool_choice: 'any' }, 'tool_choice'],
    ['a forced function without name', { model: 'm', input: 'x', tool_choice: { type: 'function' } }, 'tool_choice.name'],
    ['a zero max_output_tokens', { model: 'm', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    ['a fractional max_output_tokens', { model: 'm', input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens'],
    ['a string temperature', { model: 'm', input: 'x', temperature: '0.5' }, 'temperature'],
    ['a string stream', { model: 'm', input: 'x', stream: 'true' }, 'stream'],
    ['an unknown text format', { model: 'm', input: 'x', text: { format: { type: 'xml' } } }, 'text.format.type'],
    ['a json_schema format without schema', { model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n' } } }, 'text.format.schema'],
    ['a numeric reasoning effort', { model: 'm', input: 'x', reasoning: { effort: 3 } }, 'reasoning.effort'],
    ['a numeric previous_response_id', { model: 'm', input: 'x', previous_response_id: 1 }, 'previous_response_id'],
    ['a string background', { model: 'm', input: 'x', background: 'yes' }, 'background'],
    ['a numeric user', { model: 'm', input: 'x', user: 1 }, 'user'],
    ['non-string metadata values', { model: 'm', input: 'x', metadata: { a: 1 } }, 'metadata.a'],
    ['a fallback that is not a string', { model: 'm', input: 'x', fallbacks: [1] }, 'fallbacks.0'],
  ])('refuses %s, naming the field', (_case, body, path) => {
    expect(failedPaths(body)).toContain(path);
  });
});

describe('inputItemType', () => {
  it('reads a typeless item with a role as a message and one with only an id as an item reference', () => {
    expect(inputItemType({ role: 'user', content: 'x' })).toBe('message');
    expect(inputItemType({ id: 'msg_1' })).toBe('item_reference');
    expect(inputItemType({ type: null, id: 'msg_1' })).toBe('item_reference');
    expect(inputItemType({ type: 'function_call', id: 'fc_1' })).toBe('function_call');
  });
});
