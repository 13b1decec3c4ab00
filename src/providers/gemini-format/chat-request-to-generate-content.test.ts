import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { chatRequestToGenerateContent, SKIP_THOUGHT_SIGNATURE } from './chat-request-to-generate-content.js';
import { generateToolCallId } from './tool-call-id.js';

const model = 'gemini-2.5-flash';

describe('chatRequestToGenerateContent', () => {
  it('moves system and developer messages to systemInstruction and sets a role on every content', () => {
    const body = chatRequestToGenerateContent(
      {
        model,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'How are you?' },
        ],
      },
      { model },
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hello' }] },
      { role: 'model', parts: [{ text: 'Bonjour' }] },
      { role: 'user', parts: [{ text: 'How are you?' }] },
    ]);
    expect(body.generationConfig).toBeUndefined();
  });

  it('merges consecutive same-role turns and translates media parts', () => {
    const body = chatRequestToGenerateContent(
      {
        model,
        messages: [
          { role: 'user', content: 'First' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'gs://bucket/cat.webp' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
              { type: 'file', file: { file_id: 'https://generativelanguage.googleapis.com/v1beta/files/abc', filename: 'notes.txt' } },
            ],
          },
        ],
      },
      { model },
    );
    expect(body.contents).toHaveLength(1);
    expect(body.contents[0]).toEqual({
      role: 'user',
      parts: [
        { text: 'First' },
        { text: 'What is in these?' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { fileData: { mimeType: 'image/webp', fileUri: 'gs://bucket/cat.webp' } },
        { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
        { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
        { fileData: { mimeType: 'text/plain', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
      ],
    });
  });

  it('turns tool calls into functionCall parts and tool results into functionResponse parts named by the call id', () => {
    const body = chatRequestToGenerateContent(
      {
        model,
        messages: [
          { role: 'user', content: 'Weather in Paris and the time?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_a', content: '{"temperature":21,"unit":"C"}' },
          { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '14:05' }] },
          { role: 'user', content: 'Thanks' },
        ],
      },
      { model },
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and the time?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { location: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temperature: 21, unit: 'C' } } },
          { functionResponse: { name: 'get_time', response: { result: '14:05' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
  });

  it('returns thought signatures carried in tool-call ids, and supplies the placeholder for Gemini 3 only', () => {
    const signed = generateToolCallId('c2lnbmF0dXJl');
    const request: ChatCompletionRequest = {
      model,
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', tool_calls: [{ id: signed, type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: signed, content: 'ok' },
        { role: 'assistant', tool_calls: [{ id: 'call_plain', type: 'function', function: { name: 'g', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_plain', content: 'ok' },
      ],
    };
    const gemini25 = chatRequestToGenerateContent(request, { model });
    expect(gemini25.contents[1]?.parts[0]?.thoughtSignature).toBe('c2lnbmF0dXJl');
    expect(gemini25.contents[3]?.parts[0]?.thoughtSignature).toBeUndefined();

    const gemini3 = chatRequestToGenerateContent(request, { model: 'gemini-3-pro-preview' });
    expect(gemini3.contents[1]?.parts[0]?.thoughtSignature).toBe('c2lnbmF0dXJl');
    expect(gemini3.contents[3]?.parts[0]?.thoughtSignature).toBe(SKIP_THOUGHT_SIGNATURE);
  });

  it('refuses a tool result whose call is unknown and arguments that are not a JSON object', () => {
    const unknownCall = (): unknown =>
      chatRequestToGenerateContent({ model, messages: [{ role: 'tool', tool_call_id: 'call_x', content: 'x' }] }, { model });
    expect(unknownCall).toThrowError(/tool_call_id/);
    try {
      unknownCall();
    } catch (error) {
      expect(isGatewayError(error) && error.status).toBe(400);
      expect(isGatewayError(error) && error.param).toBe('messages[0].tool_call_id');
    }
    expect(() =>
      chatRequestToGenerateContent(
        {
          model,
          messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] }],
        },
        { model },
      ),
    ).toThrowError(/JSON object/);
  });

  it('declares tools with unsupported schema keywords stripped and maps tool_choice', () => {
    const body = chatRequestToGenerateContent(
      {
        model,
        messages: [{ role: 'user', content: 'x' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'search',
              description: 'Search the docs',
              strict: true,
              parameters: {
                $schema: 'http://json-schema.org/draft-07/schema#',
                type: 'object',
                additionalProperties: false,
                properties: {
                  query: { type: 'string', format: 'uri', minLength: 1 },
                  limit: { type: ['integer', 'null'], format: 'int32' },
                  filter: { $ref: '#/$defs/Filter', description: 'Optional filter' },
                  mode: { const: 'fast' },
                  level: { enum: [1, 2, 3] },
                },
                required: ['query', 'ghost'],
                $defs: {
                  Filter: { type: 'object', additionalProperties: false, properties: { tag: { oneOf: [{ type: 'string' }, { type: 'number' }] } } },
                },
              },
            },
          },
          { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: { type: 'function', function: { name: 'search' } },
      },
      { model },
    );
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'search',
            description: 'Search the docs',
            parameters: {
              type: 'object',
              properties: {
                query: { type: 'string', minLength: 1 },
                limit: { type: 'integer', nullable: true, format: 'int32' },
                filter: { type: 'object', description: 'Optional filter', properties: { tag: { anyOf: [{ type: 'string' }, { type: 'number' }] } } },
                mode: { enum: ['fast'] },
                level: {},
              },
              required: ['query'],
            },
          },
          { name: 'ping' },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['search'] } });

    const choices = (['none', 'auto', 'required'] as const).map(
      (choice) =>
        chatRequestToGenerateContent(
          { model, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice },
          { model },
        ).toolConfig?.functionCallingConfig.mode,
    );
    expect(choices).toEqual(['NONE', 'AUTO', 'ANY']);
  });

  it('fills generationConfig from sampling fields, response_format and reasoning_effort', () => {
    const base: ChatCompletionRequest = {
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 50,
      max_completion_tokens: 100,
      temperature: 0.3,
      top_p: 0.9,
      n: 2,
      stop: 'END',
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      seed: 7,
      reasoning_effort: 'low',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } } },
      },
    };
    expect(chatRequestToGenerateContent(base, { model }).generationConfig).toEqual({
      maxOutputTokens: 100,
      temperature: 0.3,
      topP: 0.9,
      candidateCount: 2,
      stopSequences: ['END'],
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      seed: 7,
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'string' } } },
      thinkingConfig: { thinkingBudget: 1024 },
    });
    const jsonObject = chatRequestToGenerateContent(
      { model, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' }, reasoning_effort: 'high' },
      { model: 'gemini-3-flash-preview' },
    );
    expect(jsonObject.generationConfig).toEqual({ responseMimeType: 'application/json', thinkingConfig: { thinkingLevel: 'high' } });
  });
});
