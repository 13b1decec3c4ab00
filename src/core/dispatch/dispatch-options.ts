/**
 * How an upstream request becomes the options of undici's `dispatch`: its origin and path, its headers and body, its
 * time limits; and, for a stream, a body that undici does not keep for the stream's length.
 */
import type { Dispatcher } from 'undici';
import type { UpstreamRequest } from '../../spec/provider.js';

/** The dispatch options of an upstream request: where it goes, what it sends, how long headers and body may take. */
export function dispatchOptions(request: UpstreamRequest, timeoutMs: number): Dispatcher.DispatchOptions {
  const target = splitUrl(request.url);
  return {
    origin: target.origin,
    path: target.path,
    method: request.method,
    headers: request.headers,
    body: request.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  };
}

/**
 * Request bodies from this many bytes (or UTF-16 units of a text) up are handed to a stream's request as bytes that
 * undici reads once (see `streamDispatchOptions`); below it, what the stream would keep is too small to be worth
 * undici's iterable path.
 */
export const releasedBodyBytes = 16 * 1024;

/**
 * A stream's dispatch options. undici keeps a request's body for as long as the request lasts, which for a stream is
 * its whole length: with hundreds of streams open, each keeping its prompt, that is most of the gateway's memory. So
 * a large body goes as an iterable of one chunk that lets go of its bytes as undici takes them, with its length
 * declared, so that it still travels with a `content-length` rather than chunked.
 */
export function streamDispatchOptions(request: UpstreamRequest, timeoutMs: number): Dispatcher.DispatchOptions {
  const options = dispatchOptions(request, timeoutMs);
  const body = request.body;
  if (body === undefined || (typeof body === 'string' ? body.length : body.byteLength) < releasedBodyBytes) return options;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  options.headers = { ...request.headers, 'content-length': String(bytes.byteLength) };
  // undici's documentation lists iterables among `dispatch`'s bodies (docs/api/Dispatcher.md); its types leave them out.
  options.body = readOnce(bytes) as unknown as Dispatcher.DispatchOptions['body'];
  return options;
}

/** One chunk, handed out once: the iterable keeps no reference to it after that. */
function readOnce(bytes: Uint8Array): Iterable<Uint8Array> {
  let held: Uint8Array | undefined = bytes;
  const iterator: Iterator<Uint8Array, undefined> = {
    next() {
      const value = held;
      held = undefined;
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
  };
  return { [Symbol.iterator]: () => iterator };
}

// Upstream URLs repeat (one per provider and path), so their split into origin and path is kept.
const splitUrls = new Map<string, { origin: string; path: string }>();
const maxSplitUrls = 1_000;

function splitUrl(url: string): { origin: string; path: string } {
  let split = splitUrls.get(url);
  if (!split) {
    const parsed = new URL(url);
    split = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (splitUrls.size >= maxSplitUrls) splitUrls.clear();
    splitUrls.set(url, split);
  }
  return split;
}
