/**
 * Access tokens kept per identity until shortly before they expire, one fetch at a time per identity: the cache of
 * every Google token source (the service-account grant, the refresh-token grant, workload identity federation and
 * the metadata server).
 */
import { untilAborted } from '../../spec/until-aborted.js';

/** Tokens are replaced this long before they expire, so that none expires in flight. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** A token as its issuer handed it out: the bearer and when it stops being valid (milliseconds since the epoch). */
export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/** What a caller brings: the clock, and its own signal to stop waiting (never the shared fetch's). */
export interface TokenWaitContext {
  now: () => number;
  signal?: AbortSignal;
}

/** Hands out one identity's token, fetching it with `fetch` when there is none still good. */
export interface TokenCache {
  getToken(identity: string, fetch: () => Promise<IssuedToken>, context: TokenWaitContext): Promise<string>;
}

/**
 * When a token fetched at `requestedAt` is replaced: five minutes before it expires, or halfway through a shorter
 * life, so that short-lived tokens still get used rather than fetched on every request.
 */
export function refreshTimeOf(issued: IssuedToken, requestedAt: number): number {
  const lifetime = Math.max(0, issued.expiresAt - requestedAt);
  return issued.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
}

/**
 * Creates a cache. Concurrent callers of an identity without a good token share one fetch (which must go out with
 * DETACHED_SIGNAL: the caller that started it may leave); a failed fetch is not cached, so the next caller tries again.
 */
export function createTokenCache(): TokenCache {
  const cache = new Map<string, { token: string; refreshAt: number }>();
  const inFlight = new Map<string, Promise<string>>();

  return {
    getToken(identity, fetch, context) {
      const cached = cache.get(identity);
      if (cached !== undefined && context.now() < cached.refreshAt) return Promise.resolve(cached.token);
      let pending = inFlight.get(identity);
      if (pending === undefined) {
        const requestedAt = context.now();
        pending = fetch()
          .then((issued) => {
            cache.set(identity, { token: issued.token, refreshAt: refreshTimeOf(issued, requestedAt) });
            return issued.token;
          })
          .finally(() => inFlight.delete(identity));
        // Callers that stopped waiting leave the shared promise unobserved; its failure is theirs, not the process's.
        pending.catch(() => undefined);
        inFlight.set(identity, pending);
      }
      return untilAborted(pending, context.signal);
    },
  };
}
