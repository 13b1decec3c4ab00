import { describe, expect, it } from 'vitest';
import { mapUpstreamStatus, tidyUpstreamMessage } from './upstream-errors.js';

describe('mapUpstreamStatus', () => {
  it('maps the statuses of reference §8', () => {
    expect(mapUpstreamStatus(422)).toEqual({ status: 400, type: 'invalid_request_error' });
    expect(mapUpstreamStatus(413)).toEqual({ status: 400, type: 'invalid_request_error' });
    expect(mapUpstreamStatus(408)).toEqual({ status: 504, type: 'timeout_error' });
    expect(mapUpstreamStatus(529)).toEqual({ status: 503, type: 'service_unavailable_error' });
    expect(mapUpstreamStatus(500)).toEqual({ status: 502, type: 'server_error' });
    expect(mapUpstreamStatus(418)).toEqual({ status: 418, type: 'invalid_request_error' });
    expect(mapUpstreamStatus(200)).toEqual({ status: 502, type: 'server_error' });
  });

  it('lets a provider keep a status of its own', () => {
    expect(mapUpstreamStatus(413, { 413: { status: 413, type: 'request_too_large' } })).toEqual({ status: 413, type: 'request_too_large' });
    expect(mapUpstreamStatus(401, { 413: { status: 413, type: 'request_too_large' } })).toEqual({ status: 401, type: 'authentication_error' });
  });
});

describe('tidyUpstreamMessage', () => {
  it('collapses whitespace and cuts at 1,000 characters', () => {
    expect(tidyUpstreamMessage('  a\n\n b\tc ')).toBe('a b c');
    const long = tidyUpstreamMessage('x'.repeat(1500));
    expect(long).toHaveLength(1001);
    expect(long.endsWith('…')).toBe(true);
  });
});
