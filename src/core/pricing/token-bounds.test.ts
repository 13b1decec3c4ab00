import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countChatCompletionTokens as countGpt4TurboChat } from 'gpt-tokenizer/model/gpt-4-turbo';
import { countChatCompletionTokens as countGpt4oChat } from 'gpt-tokenizer/model/gpt-4o';
import * as openAIModels from 'gpt-tokenizer/models';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ChatMessage, CustomToolCall, EmbeddingRequest, FunctionTool } from '../../spec/openai.js';
import {
  AUDIO_TOKENS_PER_SECOND,
  FILE_PART_BASE_TOKENS,
  FILE_PART_CEILING,
  FILE_TOKENS_PER_BYTE,
  GPT_4O_MINI_IMAGE_TOKEN_CEILING,
  IMAGE_TOKEN_CEILING,
} from './media-token-bounds.js';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './output-token-limits.js';
import { inputTokenUpperBound, maxOutputTokens } from './token-bounds.js';

/** A deterministic generator, so that a failing random text reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function randomBytesText(length: number, seed: number): string {
  const random = seededRandom(seed);
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) bytes[index] = Math.floor(random() * 256);
  // Invalid sequences decode to U+FFFD, as they would reach a provider after JSON parsing.
  return bytes.toString('utf8');
}

function randomCodePointsText(length: number, seed: number): string {
  const random = seededRandom(seed);
  const characters: string[] = [];
  while (characters.length < length) {
    const codePoint = Math.floor(random() * 0x10ffff);
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    characters.push(String.fromCodePoint(codePoint));
  }
  return characters.join('');
}

const corpora: Record<string, string> = {
  english: 'The quick brown fox jumps over the lazy dog, while the committee deliberates on tokenisation. '.repeat(40),
  code: `export async function fetchAll<T>(urls: string[]): Promise<T[]> {\n  const results: T[] = [];\n  for (const url of urls) {\n    const response = await fetch(url, { headers: { 'x-id': String(results.length) } });\n    if (!response.ok) throw new Error(\`\${url}: \${response.status}\`);\n    results.push((await response.json()) as T);\n  }\n  return results; // 0x1F, 1e-9, [[{}]]\n}\n`.repeat(12),
  chinese: '我们的网关在发送请求之前预留最坏情况的费用，然后按照实际用量结算。'.repeat(30),
  japanese: '東京の天気は晴れ、ときどきくもり。カタカナとひらがなを混ぜた文章です。'.repeat(30),
  korean: '토큰 수의 상한은 모든 제공자의 토크나이저에 대해 안전해야 합니다. '.repeat(30),
  emoji: '👩‍👩‍👧‍👦🇫🇷🇯🇵👍🏽🧑🏿‍🚀🏳️‍🌈😀🙃🤖✨🔥💯'.repeat(40),
  whitespaceAndDigits: `${' '.repeat(500)}\n\n\t\t${'1234567890'.repeat(80)}${'\u00a0'.repeat(50)}`,
  randomBytes: randomBytesText(6_000, 7),
  randomCodePoints: randomCodePointsText(3_000, 11),
};

const noSpecialTokens = { disallowedSpecial: new Set<string>() };

function userRequest(text: string, model = 'gpt-4o'): ChatCompletionRequest {
  return { model, messages: [{ role: 'user', content: text }] };
}

describe('inputTokenUpperBound on text', () => {
  it.each(Object.entries(corpora))('the UTF-8 byte length of %s bounds its o200k and cl100k counts', (_name, text) => {
    const bytes = Buffer.byteLength(text, 'utf8');
    expect(countO200k(text, noSpecialTokens)).toBeLessThanOrEqual(bytes);
    expect(countCl100k(text, noSpecialTokens)).toBeLessThanOrEqual(bytes);
  });

  it.each(Object.entries(corpora))('bounds the chat-formatted count of %s', (_name, text) => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: text, name: 'alice' },
      { role: 'assistant' as const, content: text.slice(0, 200) },
      { role: 'user' as const, content: text },
    ];
    const bound = inputTokenUpperBound({ model: 'gpt-4o', messages });
    expect(countGpt4oChat!({ messages })).toBeLessThanOrEqual(bound);
    expect(countGpt4TurboChat!({ messages })).toBeLessThanOrEqual(bound);
  });

  it('grows with the text and counts content given as text parts like a string', () => {
    const text = corpora.english!;
    const asString = inputTokenUpperBound(userRequest(text));
    const asParts = inputTokenUpperBound({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: text.slice(0, 100) }, { type: 'text', text: text.slice(100) }] }],
    });
    expect(asParts).toBe(asString);
    expect(inputTokenUpperBound(userRequest(`${text}more`))).toBe(asString + 4);
  });
});

describe('inputTokenUpperBound on tools and other fields', () => {
  const tools: FunctionTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather for a city, in the unit the user prefers.',
        parameters: {
          type: 'object',
          required: ['city'],
          properties: {
            city: { type: 'string', description: 'City name, e.g. Paris' },
            unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
            days: { type: 'integer', minimum: 1, maximum: 14 },
          },
        },
      },
    },
  ];

  it("bounds OpenAI's count of a request with function definitions", () => {
    const messages = [{ role: 'user' as const, content: corpora.code! }];
    const reference = countGpt4oChat!({
      messages,
      functions: tools.map((tool) => tool.function) as never,
    });
    const bound = inputTokenUpperBound({ model: 'gpt-4o', messages, tools });
    expect(reference).toBeLessThanOrEqual(bound);
    expect(bound).toBeGreaterThan(inputTokenUpperBound({ model: 'gpt-4o', messages }) + Buffer.byteLength(JSON.stringify(tools)));
  });

  it('counts tool calls, tool results and the tool prompt even without tool definitions', () => {
    const base: ChatMessage[] = [{ role: 'user', content: 'weather?' }];
    const withCalls: ChatMessage[] = [
      ...base,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}'.repeat(50) } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ];
    const difference = inputTokenUpperBound({ model: 'm', messages: withCalls }) - inputTokenUpperBound({ model: 'm', messages: base });
    expect(difference).toBeGreaterThan(Buffer.byteLength('{"city":"Paris"}'.repeat(50)) + 1_000);
  });

  it('counts a tool call of another kind than function by its JSON', () => {
    const base: ChatMessage[] = [{ role: 'user', content: 'find it' }];
    const custom: CustomToolCall = { id: 'call_2', type: 'custom', custom: { name: 'grep', input: 'pattern '.repeat(2000) } };
    const withCustom: ChatMessage[] = [...base, { role: 'assistant', content: null, tool_calls: [custom] }];
    const difference = inputTokenUpperBound({ model: 'm', messages: withCustom }) - inputTokenUpperBound({ model: 'm', messages: base });
    expect(difference).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(custom)));
  });

  it('counts response formats, unknown request fields and unknown message fields, but not sampling settings', () => {
    const base = userRequest('hello');
    const schema = { name: 'answer', schema: { type: 'object', properties: { text: { type: 'string', description: 'x'.repeat(300) } } } };
    const withSchema = { ...base, response_format: { type: 'json_schema' as const, json_schema: schema } };
    expect(inputTokenUpperBound(withSchema) - inputTokenUpperBound(base)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(schema)));
    expect(inputTokenUpperBound({ ...base, documents: ['d'.repeat(500)] })).toBeGreaterThanOrEqual(inputTokenUpperBound(base) + 500);
    const reasoning: ChatCompletionRequest = {
      model: 'deepseek-reasoner',
      messages: [{ role: 'assistant', content: 'ok', reasoning_content: 'r'.repeat(400) }],
    };
    expect(inputTokenUpperBound(reasoning)).toBeGreaterThanOrEqual(400);
    expect(inputTokenUpperBound({ ...base, temperature: 0.2, max_tokens: 100, stream: true, logit_bias: { '50256': -100 } })).toBe(
      inputTokenUpperBound(base),
    );
  });
});

describe('inputTokenUpperBound on media', () => {
  const imageMessage = (model: string): ChatCompletionRequest => ({
    model,
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
  });
  const emptyMessage = (model: string): ChatCompletionRequest => ({ model, messages: [{ role: 'user', content: [] }] });

  it('adds a fixed ceiling per image, larger for gpt-4o-mini', () => {
    expect(inputTokenUpperBound(imageMessage('claude-sonnet-4-5')) - inputTokenUpperBound(emptyMessage('claude-sonnet-4-5'))).toBe(
      IMAGE_TOKEN_CEILING,
    );
    expect(inputTokenUpperBound(imageMessage('gpt-4o-mini')) - inputTokenUpperBound(emptyMessage('gpt-4o-mini'))).toBe(
      GPT_4O_MINI_IMAGE_TOKEN_CEILING,
    );
    // The upstream model decides, not the alias the client used.
    expect(inputTokenUpperBound(imageMessage('cheap-vision'), { model: 'gpt-4o-mini-2024-07-18' })).toBe(
      inputTokenUpperBound(imageMessage('gpt-4o-mini')),
    );
  });

  function wavBase64(seconds: number, sampleRate: number): string {
    const dataBytes = seconds * sampleRate * 2;
    const wav = Buffer.alloc(44 + dataBytes);
    wav.write('RIFF', 0, 'latin1');
    wav.writeUInt32LE(36 + dataBytes, 4);
    wav.write('WAVEfmt ', 8, 'latin1');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20); // PCM
    wav.writeUInt16LE(1, 22); // mono
    wav.writeUInt32LE(sampleRate, 24);
    wav.writeUInt32LE(sampleRate * 2, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'latin1');
    wav.writeUInt32LE(dataBytes, 40);
    return wav.toString('base64');
  }

  function audioBound(data: string, format: string): number {
    const request: ChatCompletionRequest = {
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data, format } }] }],
    };
    return inputTokenUpperBound(request) - inputTokenUpperBound(emptyMessage('gemini-2.5-flash'));
  }

  it('bounds audio by its duration from the WAV header', () => {
    const bound = audioBound(wavBase64(10, 16_000), 'wav');
    expect(bound).toBeGreaterThanOrEqual(10 * AUDIO_TOKENS_PER_SECOND);
    expect(bound).toBeLessThan(20 * AUDIO_TOKENS_PER_SECOND);
  });

  it('assumes the lowest plausible bitrate when the header does not tell', () => {
    const data = wavBase64(10, 16_000);
    const asMp3 = audioBound(data, 'mp3');
    // 320 kB read as 8 kbit/s MP3 is 320 seconds.
    expect(asMp3).toBeGreaterThanOrEqual(320 * AUDIO_TOKENS_PER_SECOND);
    expect(audioBound(data, 'ogg')).toBeGreaterThan(asMp3);
    expect(audioBound(Buffer.from('not a wav header at all, just bytes').toString('base64'), 'wav')).toBeGreaterThan(0);
  });

  it('bounds files by their size, and files referenced by id by the ceiling', () => {
    const pdf = Buffer.alloc(30_000, 7).toString('base64');
    const withFile = (file: { file_data?: string; file_id?: string }): ChatCompletionRequest => ({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'file', file }] }],
    });
    const empty = inputTokenUpperBound(emptyMessage('gpt-4o'));
    expect(inputTokenUpperBound(withFile({ file_data: `data:application/pdf;base64,${pdf}` })) - empty).toBe(
      FILE_PART_BASE_TOKENS + 30_000 * FILE_TOKENS_PER_BYTE,
    );
    expect(inputTokenUpperBound(withFile({ file_id: 'file-abc' })) - empty).toBe(FILE_PART_CEILING);
  });

  it('counts an unknown part type by its JSON', () => {
    const request = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'document', source: { text: 'z'.repeat(700) } }] }],
    } as unknown as ChatCompletionRequest;
    expect(inputTokenUpperBound(request) - inputTokenUpperBound(emptyMessage('m'))).toBeGreaterThanOrEqual(700);
  });
});

describe('inputTokenUpperBound on embeddings', () => {
  it('bounds every string input by its bytes', () => {
    const inputs = Object.values(corpora);
    const bound = inputTokenUpperBound({ model: 'text-embedding-3-small', input: inputs });
    const reference = inputs.reduce((total, text) => total + countCl100k(text, noSpecialTokens), 0);
    expect(reference).toBeLessThanOrEqual(bound);
    expect(inputTokenUpperBound({ model: 'text-embedding-3-small', input: corpora.chinese! })).toBeGreaterThanOrEqual(
      countCl100k(corpora.chinese!, noSpecialTokens),
    );
  });

  it('counts token-id inputs by their length', () => {
    const one: EmbeddingRequest = { model: 'e', input: [1, 2, 3, 4, 5] };
    const two: EmbeddingRequest = { model: 'e', input: [[1, 2, 3], [4, 5, 6, 7]] };
    expect(inputTokenUpperBound(one)).toBeGreaterThanOrEqual(5);
    expect(inputTokenUpperBound(two)).toBeGreaterThanOrEqual(7);
    expect(inputTokenUpperBound(two) - inputTokenUpperBound({ model: 'e', input: [[1, 2, 3], [4]] })).toBe(3);
    expect(inputTokenUpperBound({ model: 'e', input: [] })).toBe(0);
  });
});

describe('maxOutputTokens', () => {
  const chat = (model: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });
  const dataLimit = (model: string): number =>
    (openAIModels as unknown as Record<string, { max_output_tokens: number }>)[model]!.max_output_tokens;

  it("prefers the request's cap, the larger of max_completion_tokens and max_tokens", () => {
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_completion_tokens: 300 }))).toBe(300);
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: 200 }))).toBe(200);
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: 200, max_completion_tokens: 500 }))).toBe(500);
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: 900, max_completion_tokens: 500 }))).toBe(900);
    // A cap above the model's limit is the upstream's to reject; we reserve what was asked.
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: 1_000_000 }))).toBe(1_000_000);
  });

  it('ignores empty, zero and invalid caps', () => {
    const fallback = maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o'));
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: null, max_completion_tokens: 0 }))).toBe(fallback);
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: -5 }))).toBe(fallback);
  });

  it("uses OpenAI's limits from gpt-tokenizer's model data", () => {
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o'))).toBe(dataLimit('gpt-4o'));
    expect(maxOutputTokens('openai', 'o3-mini', chat('o3-mini'))).toBe(dataLimit('o3-mini'));
    expect(maxOutputTokens('openai', 'gpt-4o-2024-05-13', chat('gpt-4o-2024-05-13'))).toBe(dataLimit('gpt-4o-2024-05-13'));
    expect(maxOutputTokens('openrouter', 'openai/gpt-4.1', chat('openai/gpt-4.1'))).toBe(dataLimit('gpt-4.1'));
    expect(maxOutputTokens('azure', 'gpt-35-turbo', chat('gpt-35-turbo'))).toBe(4_096);
  });

  it.each([
    ['anthropic', 'claude-3-haiku-20240307', 4_096],
    ['bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0', 8_192],
    ['openrouter', 'anthropic/claude-3.5-haiku', 8_192],
    ['anthropic', 'claude-3-7-sonnet-20250219', 128_000],
    ['vertex', 'claude-opus-4-1@20250805', 32_000],
    ['anthropic', 'claude-opus-4-20250514', 32_000],
    ['anthropic', 'claude-sonnet-4-5-20250929', 64_000],
    ['bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 64_000],
    ['anthropic', 'claude-opus-4-5', 64_000],
    ['anthropic', 'claude-opus-4-6', 128_000],
    ['gemini', 'gemini-1.5-pro', 8_192],
    ['vertex', 'gemini-2.0-flash-001', 8_192],
    ['gemini', 'gemini-2.5-flash', 65_536],
    ['deepseek', 'deepseek-chat', 8_192],
    ['deepseek', 'deepseek-reasoner', 65_536],
    ['cohere', 'command-r-plus', 8_192],
  ])('uses the documented family limit for %s %s', (provider, model, expected) => {
    expect(maxOutputTokens(provider, model, chat(model))).toBe(expected);
  });

  it('falls back to the conservative default for unknown models and provider-specific limits elsewhere', () => {
    expect(maxOutputTokens('vllm', 'my-finetune', chat('my-finetune'))).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
    expect(maxOutputTokens('together', 'deepseek-ai/deepseek-chat-v3', chat('deepseek-ai/deepseek-chat-v3'))).toBe(
      DEFAULT_MAX_OUTPUT_TOKENS,
    );
  });

  it('multiplies by the number of choices', () => {
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { max_tokens: 100, n: 3 }))).toBe(300);
    expect(maxOutputTokens('openai', 'gpt-4o', chat('gpt-4o', { n: 2 }))).toBe(2 * dataLimit('gpt-4o'));
  });

  it('is zero for embeddings', () => {
    expect(maxOutputTokens('openai', 'text-embedding-3-small', { model: 'text-embedding-3-small', input: 'hello' })).toBe(0);
  });
});
