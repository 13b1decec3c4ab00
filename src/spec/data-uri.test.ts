import { describe, expect, it } from 'vitest';
import { parseDataUri } from './data-uri.js';

describe('parseDataUri', () => {
  it('reads base64 and percent-encoded data with their media types', () => {
    expect(parseDataUri('data:image/png;base64,iVBORw0KGgo=')).toEqual({ mediaType: 'image/png', base64: 'iVBORw0KGgo=' });
    expect(parseDataUri('data:,hello%20world')).toEqual({ mediaType: 'text/plain', base64: Buffer.from('hello world').toString('base64') });
    expect(parseDataUri('data:Text/Plain;charset=utf-8,caf%C3%A9')).toEqual({ mediaType: 'text/plain', base64: Buffer.from('café').toString('base64') });
  });

  it('normalises image/jpg and URL-safe or line-broken base64', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    const urlSafe = bytes.toString('base64url');
    expect(parseDataUri(`data:image/jpg;base64,${urlSafe}`)).toEqual({ mediaType: 'image/jpeg', base64: bytes.toString('base64') });
    expect(parseDataUri(`data:image/png;base64,${bytes.toString('base64').slice(0, 4)}\n${bytes.toString('base64').slice(4)}`)?.base64).toBe(bytes.toString('base64'));
  });

  it('is undefined for text that is not a data URI, or whose data cannot be decoded', () => {
    expect(parseDataUri('https://example.com/cat.png')).toBeUndefined();
    expect(parseDataUri('data:image/png;base64')).toBeUndefined();
    expect(parseDataUri('data:text/plain,%E0%A4%A')).toBeUndefined();
  });
});
