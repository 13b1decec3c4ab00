import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { responsesRequestSchema, type ResponsesRequest } from '../../spec/schemas/responses-request.js';
import { responsesRequestToChat } from './request.js';

/** A body as the door hands it over: parsed by the route's schema, so a test body the door would refuse fails here. */
function translate(body: Record<string, unknown>) {
  return responsesRequestToChat(responsesRequestSchema.parse({ model: 'gpt-4.1', ...body }) as ResponsesRequest);
}

/** The 400 a body is refused with, as status, code and param. */
function refusal(body: Record<string, unknown>): { status: number; code: string; param: string | null } {
  try {
    translate(body);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    return { status: error.status, code: error.code, param: error.param };
  }
  throw new Error('expected the request to be refused');
}

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather at a place',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: true,
};

describe('responsesRequestToChat', () => {
  it('turns instructions into the first system message and a string input into one user message', () => {
    expect(translate({ instructions: 'Be brief.', input: 'Hello' })).toEqual({
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
  });

  it('leaves out empty or null instructions', () => {
    expect(translate({ instructions: null, input: 'Hello' }).messages).toEqual([{ role: 'user', content: 'Hello' }]);
    expect(translate({ instructions: '', input: 'Hello' }).messages).toEqual([{ role: 'user', content: 'Hello' }]);
  });

  it('turns system and developer items into system messages where they stand, and joins text parts', () => {
    const chat = translate({
      instructions: 'First',
      input: [
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: 'Dev rule' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'A' }, { type: 'input_text', text: 'B' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'One' }, { type: 'input_text', text: 'Two' }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'First' },
      { role: 'user', content: 'Hi' },
      { role: 'system', content: 'Dev rule' },
      { role: 'system', content: 'A\n\nB' },
      { role: 'user', content: 'One\n\nTwo' },
    ]);
  });

  it('turns images and inline files into image_url and file parts', () => {
    const chat = translate({
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Compare' },
            { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBOR', detail: 'original' },
            { type: 'input_image', image_url: 'https://example.com/b.png' },
            { type: 'input_file', file_data: 'data:application/pdf;base64,JVBER', filename: 'report.pdf' },
            { type: 'input_file', file_data: 'JVBER' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'report.pdf' } },
          { type: 'file', file: { file_data: 'JVBER' } },
        ],
      },
    ]);
  });

  it('joins the output_text parts of an assistant item and keeps a refusal as refusal', () => {
    const chat = translate({
      input: [
        { role: 'user', content: 'Hi' },
        {
          type: 'message',
          id: 'msg_1',
          status: 'completed',
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'Hel', annotations: [] },
            { type: 'output_text', text: 'lo', annotations: [] },
          ],
        },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] },
        { role: 'assistant', content: 'Plain' },
        { role: 'user', content: 'Again' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
      { role: 'assistant', content: 'Plain' },
      { role: 'user', content: 'Again' },
    ]);
  });

  it('merges function calls into the assistant message before them and turns outputs into tool messages', () => {
    const chat = translate({
      input: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'reasoning', id: 'rs_2', summary: [{ type: 'summary_text', text: 'Two cities' }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}', status: 'completed' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"location":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '25°C' }, { type: 'input_text', text: 'sunny' }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      { role: 'tool', tool_call_id: 'call_2', content: '25°C\n\nsunny' },
    ]);
  });

  it('gives function calls with no assistant message before them one of their own, and starts another after an output', () => {
    const chat = translate({
      input: [
        { role: 'user', content: 'Go' },
        { type: 'function_call', call_id: 'call_1', name: 'a', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'done' },
        { type: 'function_call', call_id: 'call_2', name: 'b', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_2', output: '' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'a', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'b', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_2', content: '' },
    ]);
  });

  it('does not merge a function call into an assistant message a user message came after', () => {
    const chat = translate({
      input: [
        { role: 'assistant', content: 'Earlier' },
        { role: 'user', content: 'Now call it' },
        { type: 'function_call', call_id: 'call_1', name: 'a', arguments: '{}' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'assistant', content: 'Earlier' },
      { role: 'user', content: 'Now call it' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'a', arguments: '{}' } }] },
    ]);
  });

  it('translates function tools and a forced function', () => {
    const chat = translate({
      input: 'Weather?',
      tools: [weatherTool, { type: 'function', name: 'now', parameters: null, strict: null, description: null }],
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    expect(chat.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.parameters, strict: true } },
      { type: 'function', function: { name: 'now' } },
    ]);
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
  });

  it.each(['auto', 'none', 'required'] as const)('keeps tool_choice %s as it is', (choice) => {
    expect(translate({ input: 'x', tools: [weatherTool], tool_choice: choice }).tool_choice).toBe(choice);
  });

  it('copies max_output_tokens, sampling and parallel_tool_calls under their chat names', () => {
    const chat = translate({ input: 'x', max_output_tokens: 256, temperature: 0.2, top_p: 0.9, parallel_tool_calls: false, top_logprobs: 3 });
    expect(chat).toMatchObject({ max_tokens: 256, temperature: 0.2, top_p: 0.9, parallel_tool_calls: false, logprobs: true, top_logprobs: 3 });
    expect(chat.max_completion_tokens).toBeUndefined();
  });

  it('leaves out sampling fields sent as null', () => {
    const chat = translate({ input: 'x', max_output_tokens: null, temperature: null, top_p: null, parallel_tool_calls: null, top_logprobs: null });
    expect(chat).toEqual({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] });
  });

  it('takes user, else safety_identifier, as user', () => {
    expect(translate({ input: 'x', user: 'u-1', safety_identifier: 's-1' }).user).toBe('u-1');
    expect(translate({ input: 'x', safety_identifier: 's-1' }).user).toBe('s-1');
    expect(translate({ input: 'x' }).user).toBeUndefined();
  });

  it('turns a reasoning effort into reasoning_effort, and a null one into nothing', () => {
    expect(translate({ input: 'x', reasoning: { effort: 'high', summary: 'auto' } }).reasoning_effort).toBe('high');
    expect('reasoning_effort' in translate({ input: 'x', reasoning: { effort: null } })).toBe(false);
    expect('reasoning_effort' in translate({ input: 'x', reasoning: null })).toBe(false);
  });

  it('turns text formats into response_format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    expect(translate({ input: 'x', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'The answer' } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema, strict: true, description: 'The answer' },
    });
    expect(translate({ input: 'x', text: { format: { type: 'json_schema', name: 'answer', schema } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema },
    });
    expect(translate({ input: 'x', text: { format: { type: 'json_object' } } }).response_format).toEqual({ type: 'json_object' });
    expect('response_format' in translate({ input: 'x', text: { format: { type: 'text' }, verbosity: 'low' } })).toBe(false);
  });

  it('asks for usage in the stream, which the Responses stream always ends with', () => {
    expect(translate({ input: 'x', stream: true })).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const unstreamed = translate({ input: 'x', stream: false });
    expect(unstreamed.stream).toBeUndefined();
    expect(unstreamed.stream_options).toBeUndefined();
  });

  it('carries none of the fields that only OpenAI stores or knows', () => {
    const chat = translate({
      input: 'x',
      store: true,
      metadata: { team: 'a' },
      include: ['reasoning.encrypted_content'],
      truncation: 'auto',
      prompt_cache_key: 'k',
      service_tier: 'flex',
      max_tool_calls: 3,
      stream_options: { include_obfuscation: false },
      previous_response_id: null,
      conversation: null,
      background: false,
    });
    expect(chat).toEqual({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] });
  });

  it.each([
    ['previous_response_id', { input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
    ['a conversation id', { input: 'x', conversation: 'conv_1' }, 'conversation'],
    ['a conversation object', { input: 'x', conversation: { id: 'conv_1' } }, 'conversation'],
    ['a prompt template', { prompt: { id: 'pmpt_1' } }, 'prompt'],
    ['background', { input: 'x', background: true }, 'background'],
    ['an item reference', { input: [{ role: 'user', content: 'x' }, { type: 'item_reference', id: 'msg_1' }] }, 'input[1]'],
    ['a typeless item reference', { input: [{ id: 'msg_1' }] }, 'input[0]'],
  ])('refuses %s: Tollgate keeps no state', (_case, body, param) => {
    expect(refusal(body)).toEqual({ status: 400, code: 'unsupported_parameter', param });
  });

  it('translates custom tools, a custom tool choice, and custom tool calls and outputs in the history', () => {
    const grammar = { type: 'grammar', syntax: 'lark', definition: 'start: "x"' };
    const chat = translate({
      tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files', format: grammar }, weatherTool],
      tool_choice: { type: 'custom', name: 'apply_patch' },
      input: [
        { role: 'user', content: 'Fix it' },
        { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Done' },
      ],
    });
    expect(chat.tools?.[0]).toEqual({ type: 'custom', custom: { name: 'apply_patch', description: 'Edit files', format: grammar } });
    expect(chat.tool_choice).toEqual({ type: 'custom', custom: { name: 'apply_patch' } });
    expect(chat.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_p', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } }] },
      { role: 'tool', tool_call_id: 'call_p', content: 'Done' },
    ]);
  });

  it.each(['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'computer_use_preview', 'mcp', 'image_generation', 'local_shell'])(
    'refuses a %s tool',
    (type) => {
      expect(refusal({ input: 'x', tools: [weatherTool, { type, name: 'n' }] })).toEqual({ status: 400, code: 'unsupported_tool', param: 'tools[1]' });
    },
  );

  it.each([
    ['allowed_tools', { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] }],
    ['a hosted tool', { type: 'web_search_preview' }],
    ['an MCP tool', { type: 'mcp', server_label: 'deepwiki' }],
  ])('refuses tool_choice %s', (_case, choice) => {
    expect(refusal({ input: 'x', tools: [weatherTool], tool_choice: choice })).toEqual({ status: 400, code: 'unsupported_tool', param: 'tool_choice' });
  });

  it.each([
    ['an image by file_id', { role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] }, 'input[0].content[0]'],
    ['a file by file_id', { role: 'user', content: [{ type: 'input_text', text: 'x' }, { type: 'input_file', file_id: 'file-1' }] }, 'input[0].content[1]'],
    ['a file by URL', { role: 'user', content: [{ type: 'input_file', file_url: 'https://example.com/a.pdf' }] }, 'input[0].content[0]'],
    ['an image in a system message', { role: 'system', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }, 'input[0].content[0]'],
    ['a file in an assistant message', { role: 'assistant', content: [{ type: 'input_file', file_data: 'JVBER' }] }, 'input[0].content[0]'],
    ['a refusal in a user message', { role: 'user', content: [{ type: 'refusal', refusal: 'no' }] }, 'input[0].content[0]'],
    ['an unknown part', { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }, 'input[0].content[0]'],
    ['an image in a function output', { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }, 'input[0].output[0]'],
    ['an item of a hosted tool', { type: 'web_search_call', id: 'ws_1', status: 'completed' }, 'input[0]'],
  ])('refuses %s as unsupported content', (_case, item, param) => {
    expect(refusal({ input: [item] })).toEqual({ status: 400, code: 'unsupported_content', param });
  });

  it('refuses image and file parts that carry nothing', () => {
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_image', detail: 'auto' }] }] })).toEqual({ status: 400, code: 'invalid_request', param: 'input[0].content[0]' });
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.pdf' }] }] })).toEqual({ status: 400, code: 'invalid_request', param: 'input[0].content[0]' });
  });

  it.each([
    ['no input', {}],
    ['an empty input list', { input: [] }],
    ['only reasoning items', { input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }],
    ['instructions alone', { instructions: 'Be brief.' }],
  ])('refuses %s: there is no message to answer', (_case, body) => {
    expect(refusal(body)).toEqual({ status: 400, code: 'invalid_request', param: 'input' });
  });
});
