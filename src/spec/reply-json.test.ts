import { describe, expect, it } from 'vitest';
import { readReplyJson, readTokenCountReply } from './reply-json.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('readReplyJson and readTokenCountReply', () => {
  it('parse a reply, and refuse one that is not JSON as the upstream fault', () => {
    expect(readReplyJson(bytes('{"a":[1]}'), 'Gemini')).toEqual({ a: [1] });
    expect(() => readReplyJson(bytes('<html>'), 'Gemini')).toThrow(expect.objectContaining({ status: 502, code: 'upstream_invalid_response' }));
    expect(() => readReplyJson(bytes('<html>'), 'Gemini')).toThrow(/Gemini answered with a body that is not JSON/);
  });

  it('read a count only when it is a whole, non-negative number', () => {
    expect(readTokenCountReply(bytes('{"inputTokens":12}'), 'inputTokens', 'Bedrock')).toBe(12);
    expect(readTokenCountReply(bytes('{"input_tokens":0}'), 'input_tokens', 'Anthropic')).toBe(0);
    for (const body of ['{"inputTokens":-1}', '{"inputTokens":1.5}', '{"inputTokens":"12"}', '{}', '[12]', 'null', '{"inputTokens":1e300}']) {
      expect(() => readTokenCountReply(bytes(body), 'inputTokens', 'Bedrock'), body).toThrow(/Bedrock answered the token count without a whole, non-negative inputTokens/);
    }
  });
});
