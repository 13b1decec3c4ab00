import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest, FunctionTool } from '../../spec/openai.js';
import { LEADING_USER_PLACEHOLDER, toConverseRequest } from './converse-request.js';
import type { ConverseToolSpecification } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';

const topSong: FunctionTool = {
  type: 'function',
  function: {
    name: 'top_song',
    description: 'Get the most popular song played on a radio station.',
    parameters: { type: 'object', properties: { sign: { type: 'string' } }, required: ['sign'] },
  },
};

function request(fields: Partial<ChatCompletionRequest>): ChatCompletionRequest {
  return { model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', messages: [], ...fields };
}

function gatewayErrorOf(action: () => unknown): { status: number; code: string; param: string | null } {
  try {
    action();
  } catch (error) {
    if (isGatewayError(error)) return { status: error.status, code: error.code, param: error.param };
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('toConverseRequest', () => {
  it('moves system and developer messages to system and maps sampling fields', () => {
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'system', content: 'You are an app that creates playlists for a radio station.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer briefly.' }] },
          { role: 'user', content: 'Create a list of 3 pop songs.' },
        ],
        max_tokens: 100,
        max_completion_tokens: 512,
        temperature: 0.5,
        top_p: 0.9,
        stop: 'END',
        top_k: 40,
      }),
    );
    expect(body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Create a list of 3 pop songs.' }] }],
      system: [{ text: 'You are an app that creates playlists for a radio station.' }, { text: 'Answer briefly.' }],
      inferenceConfig: { maxTokens: 512, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
      additionalModelRequestFields: { top_k: 40 },
    });
  });

  it('merges consecutive same-role turns and puts a user turn before a leading assistant turn', () => {
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'assistant', content: 'Hi! How can I help?' },
          { role: 'user', content: 'First part.' },
          { role: 'user', content: [{ type: 'text', text: 'Second part.' }, { type: 'text', text: '   ' }] },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'Third part.' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: LEADING_USER_PLACEHOLDER }] },
      { role: 'assistant', content: [{ text: 'Hi! How can I help?' }] },
      { role: 'user', content: [{ text: 'First part.' }, { text: 'Second part.' }, { text: 'Third part.' }] },
    ]);
  });

  it('inlines data-URI images and documents, with Bedrock-safe unique document names', () => {
    const pdf = Buffer.from('%PDF-1.4 test').toString('base64');
    const body = toConverseRequest(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these.' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'report_2024.v2.pdf' } },
              { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'report_2024.v2.pdf' } },
              { type: 'file', file: { file_data: 'data:text/markdown,%23 Title', filename: 'notes.md' } },
            ],
          },
        ],
      }),
    );
    expect(body.messages[0]?.content).toEqual([
      { text: 'Compare these.' },
      { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
      { document: { format: 'pdf', name: 'report-2024-v2', source: { bytes: pdf } } },
      { document: { format: 'pdf', name: 'report-2024-v2 (2)', source: { bytes: pdf } } },
      { document: { format: 'md', name: 'notes', source: { bytes: Buffer.from('# Title').toString('base64') } } },
    ]);
  });

  it('refuses remote image URLs, unknown image types and audio with a 400 naming the part', () => {
    const remote = gatewayErrorOf(() =>
      toConverseRequest(request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] })),
    );
    expect(remote).toEqual({ status: 400, code: 'unsupported_content', param: 'messages[0].content[0]' });
    const bitmap = gatewayErrorOf(() =>
      toConverseRequest(request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }] })),
    );
    expect(bitmap.status).toBe(400);
    const audio = gatewayErrorOf(() =>
      toConverseRequest(request({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] })),
    );
    expect(audio.code).toBe('unsupported_content');
    // Malformed percent-encoding in a data URI is the client's mistake (400), not an exception from the translation.
    const malformed = gatewayErrorOf(() =>
      toConverseRequest(request({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: 'data:text/plain,%E0%A4%A', filename: 'notes.txt' } }] }] })),
    );
    expect(malformed).toMatchObject({ status: 400, code: 'unsupported_content' });
  });

  it('translates a tool round trip: text before toolUse, tool results merged into one user turn first', () => {
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'user', content: 'What is the most popular song on WZPZ and the weather in Paris?' },
          {
            role: 'assistant',
            content: 'Let me check.',
            tool_calls: [
              { id: 'tooluse_1', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } },
              { id: 'tooluse_2', type: 'function', function: { name: 'weather', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '{"song":"Elemental Hotel","artist":"8 Storey Hike"}' },
          { role: 'tool', tool_call_id: 'tooluse_2', content: [{ type: 'text', text: 'Sunny' }] },
          { role: 'user', content: 'Thanks!' },
        ],
        tools: [topSong],
        tool_choice: 'auto',
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'What is the most popular song on WZPZ and the weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'Let me check.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'top_song', input: { sign: 'WZPZ' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'weather', input: {} } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'tooluse_1', content: [{ text: '{"song":"Elemental Hotel","artist":"8 Storey Hike"}' }] } },
          { toolResult: { toolUseId: 'tooluse_2', content: [{ text: 'Sunny' }] } },
          { text: 'Thanks!' },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'top_song',
            description: 'Get the most popular song played on a radio station.',
            inputSchema: { json: { type: 'object', properties: { sign: { type: 'string' } }, required: ['sign'] } },
          },
        },
      ],
      toolChoice: { auto: {} },
    });
  });

  it('maps tool_choice required and named choices', () => {
    const messages = [{ role: 'user' as const, content: 'Go' }];
    expect(toConverseRequest(request({ messages, tools: [topSong], tool_choice: 'required' })).toolConfig?.toolChoice).toEqual({ any: {} });
    expect(
      toConverseRequest(request({ messages, tools: [topSong], tool_choice: { type: 'function', function: { name: 'top_song' } } })).toolConfig
        ?.toolChoice,
    ).toEqual({ tool: { name: 'top_song' } });
    expect(toConverseRequest(request({ messages, tools: [topSong] })).toolConfig?.toolChoice).toBeUndefined();
  });

  it('leaves tools out for tool_choice none unless the history holds tool blocks', () => {
    const plain = toConverseRequest(request({ messages: [{ role: 'user', content: 'Go' }], tools: [topSong], tool_choice: 'none' }));
    expect(plain.toolConfig).toBeUndefined();
    const withHistory = toConverseRequest(
      request({
        messages: [
          { role: 'user', content: 'Go' },
          { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'top_song', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 't1', content: 'done' },
        ],
        tools: [topSong],
        tool_choice: 'none',
      }),
    );
    expect(withHistory.toolConfig?.tools.map((tool) => ('toolSpec' in tool ? tool.toolSpec.name : 'cachePoint'))).toEqual(['top_song']);
    expect(withHistory.toolConfig?.toolChoice).toBeUndefined();
  });

  it('declares stub tools when the history holds tool blocks but the client sent no tools', () => {
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'user', content: 'Go' },
          { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
          { role: 'tool', tool_call_id: 't1', content: 'result' },
        ],
      }),
    );
    expect(body.toolConfig?.tools).toEqual([
      { toolSpec: { name: 'lookup', description: 'A tool used earlier in this conversation.', inputSchema: { json: { type: 'object' } } } },
    ]);
  });

  it('refuses tool arguments that are not a JSON object', () => {
    const error = gatewayErrorOf(() =>
      toConverseRequest(
        request({
          messages: [
            { role: 'user', content: 'Go' },
            { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'x', arguments: '{not json' } }] },
          ],
        }),
      ),
    );
    expect(error).toEqual({ status: 400, code: 'invalid_tool_arguments', param: 'messages[1].tool_calls[0].function.arguments' });
  });

  it('serves response_format json_schema with a forced structured-output tool', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const body = toConverseRequest(
      request({
        messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'place', schema } },
      }),
    );
    expect(body.toolConfig?.tools).toHaveLength(1);
    const tool = body.toolConfig?.tools[0] as ConverseToolSpecification | undefined;
    expect(tool?.toolSpec.name).toBe(STRUCTURED_OUTPUT_TOOL_NAME);
    expect(tool?.toolSpec.inputSchema.json).toEqual(schema);
    expect(body.toolConfig?.toolChoice).toEqual({ tool: { name: STRUCTURED_OUTPUT_TOOL_NAME } });
  });

  it('follows each block marked with cache_control by a cache point, in system, messages and tools', () => {
    const cache = { type: 'ephemeral' };
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Long manual.', cache_control: cache }, { type: 'text', text: 'Today is Monday.' }] },
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from('png').toString('base64')}` } },
              { type: 'text', text: 'Describe it.', cache_control: cache },
              { type: 'text', text: 'Briefly.' },
            ],
          },
        ],
        tools: [
          { ...topSong, cache_control: cache } as FunctionTool,
          { type: 'function', function: { name: 'lookup' } },
        ],
      }),
    );
    expect(body.system).toEqual([{ text: 'Long manual.' }, { cachePoint: { type: 'default' } }, { text: 'Today is Monday.' }]);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { image: { format: 'png', source: { bytes: Buffer.from('png').toString('base64') } } },
          { text: 'Describe it.' },
          { cachePoint: { type: 'default' } },
          { text: 'Briefly.' },
        ],
      },
    ]);
    expect(body.toolConfig?.tools).toEqual([
      { toolSpec: { name: 'top_song', description: topSong.function.description, inputSchema: { json: topSong.function.parameters } } },
      { cachePoint: { type: 'default' } },
      { toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: {} } } } },
    ]);
  });

  it('keeps the text of marked system parts as unmarked parts would join it, split only at the markers', () => {
    const cache = { type: 'ephemeral' };
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Part one, ' }, { type: 'text', text: 'part two.', cache_control: cache }, { type: 'text', text: ' ' }] },
          { role: 'developer', content: [{ type: 'text', text: '   ', cache_control: cache }] },
          { role: 'user', content: 'Hi' },
        ],
      }),
    );
    // The blank developer part would be a blank block, which Bedrock rejects; its marker goes with it.
    expect(body.system).toEqual([{ text: 'Part one, part two.' }, { cachePoint: { type: 'default' } }]);
  });

  it("carries cache_control's ttl over to the cache point", () => {
    const body = toConverseRequest(
      request({
        messages: [{ role: 'system', content: [{ type: 'text', text: 'Manual.', cache_control: { type: 'ephemeral', ttl: '1h' } }] }, { role: 'user', content: 'Hi' }],
      }),
    );
    expect(body.system).toEqual([{ text: 'Manual.' }, { cachePoint: { type: 'default', ttl: '1h' } }]);
  });

  it('closes a marked tool result with a cache point and keeps cache points behind their blocks when turns merge', () => {
    const cache = { type: 'ephemeral' };
    const body = toConverseRequest(
      request({
        messages: [
          { role: 'user', content: 'Go' },
          {
            role: 'assistant',
            content: [{ type: 'text', text: 'Looking it up.', cache_control: cache }],
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } }],
          },
          { role: 'user', content: [{ type: 'text', text: 'Context first.', cache_control: cache }] },
          { role: 'tool', tool_call_id: 't1', content: [{ type: 'text', text: 'Elemental Hotel', cache_control: cache }] },
        ],
        tools: [topSong],
      }),
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [{ text: 'Looking it up.' }, { cachePoint: { type: 'default' } }, { toolUse: { toolUseId: 't1', name: 'top_song', input: { sign: 'WZPZ' } } }],
    });
    // Tool results open the user turn; each cache point still follows the block it was marked on.
    expect(body.messages[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 't1', content: [{ text: 'Elemental Hotel' }] } },
        { cachePoint: { type: 'default' } },
        { text: 'Context first.' },
        { cachePoint: { type: 'default' } },
      ],
    });
  });

  it('sends no cache point without cache_control, nor for a null marker', () => {
    const body = toConverseRequest(
      request({
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: null }] }],
        tools: [{ ...topSong, cache_control: null } as FunctionTool],
      }),
    );
    expect(JSON.stringify(body)).not.toContain('cachePoint');
  });

  it('refuses n greater than 1', () => {
    expect(gatewayErrorOf(() => toConverseRequest(request({ messages: [{ role: 'user', content: 'x' }], n: 2 }))).param).toBe('n');
  });
});
