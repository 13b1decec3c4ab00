import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { estimateMessagesTokens } from './token-estimate.js';

const user = (content: unknown) => ({ role: 'user', content });

describe('estimateMessagesTokens', () => {
  it('counts text with the o200k tokenizer, plus the reply priming and each message frame', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(countTokens(text)).toBe(10);
    expect(await estimateMessagesTokens({ messages: [user(text)] })).toBe(3 + 3 + 10);
    expect(await estimateMessagesTokens({ messages: [user([{ type: 'text', text }])] })).toBe(16);
    // The system text and a second message join the same count (one tokenizer pass over the joined text).
    const two = await estimateMessagesTokens({ system: [{ type: 'text', text }], messages: [user(text), { role: 'assistant', content: text }] });
    expect(two).toBe(3 + 2 * 3 + countTokens([text, text, text].join('\n')));
  });

  it('allows for tools, images and documents that are not text, and counts tool calls, results and unknown blocks', async () => {
    const base = await estimateMessagesTokens({ messages: [user('hi')] });
    const tools = [{ name: 'lookup', input_schema: { type: 'object' } }];
    expect(await estimateMessagesTokens({ messages: [user('hi')], tools })).toBe(base + 350 + countTokens(`hi\n${JSON.stringify(tools)}`) - countTokens('hi'));
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) } };
    expect(await estimateMessagesTokens({ messages: [user([{ type: 'text', text: 'hi' }, image])] })).toBe(base + 1_600);
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } };
    expect(await estimateMessagesTokens({ messages: [user([{ type: 'text', text: 'hi' }, pdf])] })).toBe(base + 1_600);
    const plain = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'a plain document' } };
    expect(await estimateMessagesTokens({ messages: [user([plain])] })).toBe(6 + countTokens('a plain document'));
    const call = { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { word: 'sky' } }] };
    const result = user([{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'blue' }] }]);
    expect(await estimateMessagesTokens({ messages: [user('hi'), call, result] })).toBe(3 + 9 + countTokens(['hi', 'lookup {"word":"sky"}', 'blue'].join('\n')));
    const unknown = { type: 'server_tool_use', id: 's1', name: 'web_search', input: { query: 'sky' } };
    expect(await estimateMessagesTokens({ messages: [user([unknown])] })).toBe(6 + countTokens(JSON.stringify(unknown)));
  });

  it('counts a quarter token a byte beyond half a megabyte of text, instead of running the tokenizer', async () => {
    const long = 'é'.repeat(600 * 1024);
    expect(await estimateMessagesTokens({ messages: [user(long)] })).toBe(6 + Math.ceil(Buffer.byteLength(long) / 4));
  });

  it('takes what the door let through without throwing: no messages, odd blocks', async () => {
    expect(await estimateMessagesTokens({})).toBe(3);
    expect(await estimateMessagesTokens({ messages: [null, user([null, 'text', { type: 'text' }])] })).toBe(3 + 6);
  });
});
