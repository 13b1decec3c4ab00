import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.js';
import { addAnthropicBetaHeader, mergeAnthropicBetas, readAnthropicBetas } from './anthropic-beta.js';

function refusal(value: unknown): GatewayError {
  try {
    readAnthropicBetas(value, 'anthropic-beta');
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe('readAnthropicBetas', () => {
  it('reads a comma list or a list of names, trimmed, each once, skipping empty items', () => {
    expect(readAnthropicBetas(' context-1m-2025-08-07 ,interleaved-thinking-2025-05-14,,context-1m-2025-08-07,', 'h')).toEqual([
      'context-1m-2025-08-07',
      'interleaved-thinking-2025-05-14',
    ]);
    expect(readAnthropicBetas(['files-api-2025-04-14', 'files-api-2025-04-14'], 'h')).toEqual(['files-api-2025-04-14']);
  });

  it('gives undefined for nothing, an empty header or an empty list', () => {
    for (const value of [undefined, null, '', ' , ', []]) expect(readAnthropicBetas(value, 'h')).toBeUndefined();
  });

  it('refuses what is not a beta name with a 400 naming where it came from', () => {
    for (const value of ['a;b', 'with space', '-leading-dash', 'x'.repeat(101), 'naïve-2025-01-01', 'line\r\nbreak', [1], [{}], 7, { name: 'a' }]) {
      const error = refusal(value);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error.status).toBe(400);
      expect(error).toMatchObject({ param: 'anthropic-beta', code: 'invalid_anthropic_beta', type: 'invalid_request_error' });
    }
  });

  it('takes 32 betas and refuses 33', () => {
    const names = Array.from({ length: 33 }, (_, index) => `beta-${index}-2025-01-01`);
    expect(readAnthropicBetas(names.slice(0, 32), 'h')).toHaveLength(32);
    expect(refusal(names).status).toBe(400);
  });
});

describe('mergeAnthropicBetas and addAnthropicBetaHeader', () => {
  it('keeps the order of first appearance', () => {
    expect(mergeAnthropicBetas(['a', 'b'], undefined, ['b', 'c', 'a'])).toEqual(['a', 'b', 'c']);
  });

  it("adds the client's betas after a configured header's, and leaves the headers alone without any", () => {
    const configured: Record<string, string> = { 'anthropic-beta': ' a , b' };
    addAnthropicBetaHeader(configured, ['b', 'c']);
    expect(configured['anthropic-beta']).toBe('a,b,c');
    const untouched: Record<string, string> = { 'anthropic-beta': ' a , b' };
    addAnthropicBetaHeader(untouched, undefined);
    addAnthropicBetaHeader(untouched, []);
    expect(untouched['anthropic-beta']).toBe(' a , b');
    const bare: Record<string, string> = {};
    addAnthropicBetaHeader(bare, ['c']);
    expect(bare).toEqual({ 'anthropic-beta': 'c' });
  });
});
