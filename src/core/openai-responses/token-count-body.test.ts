import { describe, expect, it } from 'vitest';
import { tokenCountBodyOf } from './token-count-body.js';

describe('tokenCountBodyOf', () => {
  it('gives the Messages body of a chat request, without max_tokens or stream, its model as the client named it', () => {
    const body = tokenCountBodyOf({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body).toEqual({ model: 'anthropic/claude-sonnet-4-5', system: 'Be terse.', messages: [{ role: 'user', content: 'Hi' }] });
  });
});
