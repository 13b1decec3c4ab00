// Loaded into Portkey's gateway process only (node --import): a workaround so that it can stream at all.
//
// @portkey-ai/gateway 1.15.2 with the @hono/node-server it installs (1.19.x) answers every streamed chat request
// with {"status":"failure","message":"Something went wrong"}: it re-wraps the upstream fetch Response, keeps that
// response's immutable Headers, then appends x-portkey-* headers to them ("TypeError: immutable"; Portkey issues
// #1389 and #1550). Portkey's proposed fix (PR #1551) copies the streamed response into a new Response with its
// own headers; this shim does the same one step earlier, for event streams only, so non-streamed requests run
// Portkey's code untouched.
const upstreamFetch = globalThis.fetch;
const OriginalResponse = globalThis.Response;
const OriginalHeaders = globalThis.Headers;

globalThis.fetch = async function fetchWithMutableStreamHeaders(input, init) {
  const response = await upstreamFetch(input, init);
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream')) return response;
  return new OriginalResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new OriginalHeaders(response.headers),
  });
};
