import { describe, expect, it } from 'vitest';
import { limitRefusal, type RefusedReservation } from './limit-refusal.js';

const now = Date.parse('2026-12-04T12:00:00.000Z');
const base: RefusedReservation = {
  limits: {},
  failed: 'usd',
  state: { spent: 0, reserved: 0, limit: 1 },
  resetsAt: Date.parse('2027-01-01T00:00:00.000Z'),
  minuteResetsAt: now + 30_000,
  worstCost: 0.5,
  worstTokens: 100,
  rates: { diemUsd: 1, vcuUsd: 0.1 },
  now,
};

describe('limitRefusal', () => {
  it('names the USD-valued cap the worst case passes, with what remains and when the window resets', () => {
    const error = limitRefusal({ ...base, limits: { usd: 10, vcu: 5 }, state: { spent: 0.2, reserved: 0.1, limit: 0.5 } });
    // 0.2 + 0.1 + 0.5 passes 5 VCU (0.5 USD) but not 10 USD.
    expect(error.status).toBe(402);
    expect(error.code).toBe('API_KEY_VCU_SPEND_LIMIT_EXCEEDED');
    expect(error.message).toBe(
      "This API key's vcu limit for the current window is reached: this request may cost up to $0.500000 and $0.200000 remain; lower max_tokens to fit; the window resets at 2027-01-01T00:00:00.000Z",
    );
    expect(error.headers).toEqual({ 'x-should-retry': 'false', 'x-tollgate-limit-resets-at': '2027-01-01T00:00:00.000Z' });
  });

  it('says a LIFETIME window never resets, without a reset header', () => {
    const error = limitRefusal({ ...base, failed: 'requests', resetsAt: null, state: { spent: 3, reserved: 0, limit: 3 } });
    expect(error.code).toBe('API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED');
    expect(error.message).toContain('3 requests are allowed per window; the LIFETIME window never resets');
    expect(error.headers).toEqual({ 'x-should-retry': 'false' });
  });

  it('answers a per-minute token limit with 429 and both sets of rate-limit headers', () => {
    const error = limitRefusal({ ...base, failed: 'tpm', state: { spent: 900, reserved: 50, limit: 1000 } });
    expect(error.status).toBe(429);
    expect(error.code).toBe('RATE_LIMIT_TPM_EXCEEDED');
    expect(error.headers).toEqual({
      'x-ratelimit-limit-requests': '1000',
      'x-ratelimit-remaining-requests': '50',
      'x-ratelimit-reset-requests': '2026-12-04T12:00:30.000Z',
      'retry-after': '30',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '50',
      'x-ratelimit-reset-tokens': '2026-12-04T12:00:30.000Z',
    });
  });

  it('tells a refused concurrent request to retry in a second', () => {
    const error = limitRefusal({ ...base, failed: 'concurrent', state: { spent: 0, reserved: 4, limit: 4 } });
    expect(error.status).toBe(429);
    expect(error.code).toBe('RATE_LIMIT_CONCURRENT_EXCEEDED');
    expect(error.headers?.['retry-after']).toBe('1');
    expect(error.headers?.['x-ratelimit-remaining-requests']).toBe('0');
  });
});
