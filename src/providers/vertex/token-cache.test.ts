import { describe, expect, it } from 'vitest';
import { createTokenCache, refreshTimeOf, type IssuedToken } from './token-cache.js';

describe('refreshTimeOf', () => {
  it('replaces a token five minutes before it expires, or halfway through a shorter life', () => {
    expect(refreshTimeOf({ token: 't', expiresAt: 3_600_000 }, 0)).toBe(3_300_000);
    expect(refreshTimeOf({ token: 't', expiresAt: 1_000_000 + 240_000 }, 1_000_000)).toBe(1_120_000);
    // A token already expired by the caller's clock is replaced at once.
    expect(refreshTimeOf({ token: 't', expiresAt: 500 }, 1_000)).toBe(500);
  });
});

describe('createTokenCache', () => {
  it('fetches once for concurrent callers of one identity, apart for another, and again once the token nears expiry', async () => {
    const cache = createTokenCache();
    let now = 0;
    const fetched: string[] = [];
    const fetcher = (identity: string) => async (): Promise<IssuedToken> => {
      fetched.push(identity);
      return { token: `${identity}-${fetched.length}`, expiresAt: now + 3_600_000 };
    };
    const context = { now: () => now };
    const tokens = await Promise.all([cache.getToken('a', fetcher('a'), context), cache.getToken('a', fetcher('a'), context), cache.getToken('b', fetcher('b'), context)]);
    expect(tokens).toEqual(['a-1', 'a-1', 'b-2']);
    now = 3_300_000 - 1;
    expect(await cache.getToken('a', fetcher('a'), context)).toBe('a-1');
    now += 1;
    expect(await cache.getToken('a', fetcher('a'), context)).toBe('a-3');
    expect(fetched).toEqual(['a', 'b', 'a']);
  });

  it('does not keep a failure: the next caller fetches again', async () => {
    const cache = createTokenCache();
    let attempts = 0;
    const fetch = async (): Promise<IssuedToken> => {
      attempts += 1;
      if (attempts === 1) throw new Error('refused');
      return { token: 'second', expiresAt: 3_600_000 };
    };
    await expect(cache.getToken('a', fetch, { now: () => 0 })).rejects.toThrow('refused');
    await expect(cache.getToken('a', fetch, { now: () => 0 })).resolves.toBe('second');
  });

  it('lets a caller stop waiting while the shared fetch goes on for the others', async () => {
    const cache = createTokenCache();
    let finish: ((issued: IssuedToken) => void) | undefined;
    const fetch = () =>
      new Promise<IssuedToken>((resolve) => {
        finish = resolve;
      });
    const controller = new AbortController();
    const leaving = cache.getToken('a', fetch, { now: () => 0, signal: controller.signal }).catch((error: unknown) => error);
    const staying = cache.getToken('a', fetch, { now: () => 0 });
    controller.abort(new Error('client went away'));
    expect(await leaving).toEqual(new Error('client went away'));
    finish!({ token: 'shared', expiresAt: 3_600_000 });
    expect(await staying).toBe('shared');
    expect(await cache.getToken('a', fetch, { now: () => 0 })).toBe('shared');
  });
});
