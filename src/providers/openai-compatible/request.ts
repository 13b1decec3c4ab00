/**
 * Building chat requests for OpenAI-compatible servers: URL, headers and body. The pieces are exported
 * separately so adapters with their own URL scheme and auth (Azure) can reuse the body and header rules.
 */
import { errors } from '../../spec/errors.js';
import type { JsonSource } from '../../spec/json-source.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import type { ChatRequestRules, CompatibleDescription } from './description.js';

/** The standard chat path, appended to every compatible base URL unless a description says otherwise. */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

/**
 * Appends a standard path to a base URL. Trailing slashes on the base are tolerated, and a base that already
 * ends in `/v1` does not get a second one (operators often paste the SDK-style base URL).
 */
export function joinUrl(base: string, path: string): string {
  const trimmed = base.replace(/\/+$/, '');
  const normalisedPath = path.startsWith('/') ? path : `/${path}`;
  if (/\/v1$/.test(trimmed) && normalisedPath.startsWith('/v1/')) {
    return trimmed + normalisedPath.slice('/v1'.length);
  }
  return trimmed + normalisedPath;
}

/**
 * The base URL for one attempt: the provider's configured base URL, else the key's own server URL
 * (self-hosted servers), else the description's default.
 */
export function resolveBaseUrl(description: CompatibleDescription, context: ProviderContext): string {
  const configured = context.provider.network.baseUrl;
  if (configured !== undefined && configured !== '') return configured;
  const perKey = description.keyBaseUrl?.(context.key);
  if (perKey !== undefined && perKey !== '') return perKey;
  return description.defaultBaseUrl;
}

/** The model name sent upstream for this attempt. */
export function resolveUpstreamModel(description: CompatibleDescription, context: ProviderContext): string {
  return description.upstreamModel?.(context) ?? context.model;
}

/**
 * JSON request headers with optional bearer auth. The authorization header is left out when the key has no
 * value, because self-hosted servers started without `--api-key` need none. Configured extra headers come last
 * so an operator can override anything (OpenAI-Organization, HTTP-Referer for OpenRouter, ...).
 */
export function buildHeaders(options: {
  apiKey?: string;
  stream: boolean;
  extraHeaders?: Record<string, string>;
}): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
  if (options.stream) headers.accept = 'text/event-stream';
  for (const [name, value] of Object.entries(options.extraHeaders ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

/**
 * The body with top-level fields renamed and removed; a rename never overwrites a value the client set explicitly.
 * A body that changes is built anew instead of edited with `delete`, which turns an object into a dictionary that
 * is slower to serialise (~2 µs more a request, measured with OpenAI's max_tokens rename); one that does not is
 * returned as it is.
 */
export function withFieldRules(
  body: Record<string, unknown>,
  dropFields: readonly string[] = [],
  renameFields: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const renamed = (key: string): string | undefined => (Object.hasOwn(renameFields, key) ? renameFields[key] : undefined);
  const keys = Object.keys(body);
  if (!keys.some((key) => dropFields.includes(key) || renamed(key) !== undefined)) return body;
  const result: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    // A client's own "__proto__" member stays a member, as the spread that copied it kept it.
    if (key === '__proto__') Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    else result[key] = value;
  };
  for (const key of keys) {
    if (dropFields.includes(key)) continue;
    const target = renamed(key);
    if (target === undefined) set(key, body[key]);
    else if (body[target] === undefined && !dropFields.includes(target)) set(target, body[key]);
  }
  return result;
}

/**
 * The upstream chat body: the client's request with every unknown field kept, the model replaced, streaming
 * set as asked, and the server's field rules applied. When streaming, usage is always requested
 * (`stream_options.include_usage`) so the gateway can meter; the core drops the usage chunk for clients that
 * did not ask for it.
 */
export function buildChatBody(
  request: ChatCompletionRequest,
  options: { model: string; stream: boolean; rules?: ChatRequestRules },
): Record<string, unknown> {
  const rules = options.rules ?? {};
  const body: Record<string, unknown> = { ...request, model: options.model };
  if (options.stream) {
    body.stream = true;
    if (rules.sendStreamOptions === false) {
      delete body.stream_options;
    } else {
      const clientOptions = request.stream_options ?? {};
      body.stream_options = { ...clientOptions, include_usage: true };
    }
  } else {
    // OpenAI rejects stream_options on a non-streamed request.
    delete body.stream;
    delete body.stream_options;
  }
  if (rules.maxChoices !== undefined && typeof request.n === 'number' && request.n > rules.maxChoices) {
    throw errors.badRequest(`This provider supports at most n=${rules.maxChoices}.`, { param: 'n', code: 'unsupported_value' });
  }
  const ruled = withFieldRules(body, rules.dropFields, rules.renameFields);
  const messageFields = rules.dropMessageFields ?? [];
  const carriesDroppedField = (message: object) => messageFields.some((field) => field in message);
  // The client's own array is kept when no message changes, so that its text can be forwarded as written.
  if (messageFields.length > 0 && Array.isArray(request.messages) && request.messages.some(carriesDroppedField)) {
    ruled.messages = request.messages.map((message) => {
      if (!carriesDroppedField(message)) return message;
      const copy: Record<string, unknown> = { ...message };
      for (const field of messageFields) delete copy[field];
      return copy;
    });
  }
  return ruled;
}

/**
 * Builds the full upstream chat request for a compatible server. With the client's `source`, the members the body
 * keeps unchanged (the messages, above all) are copied from the client's bytes rather than serialised again.
 */
export function buildChatRequest(
  description: CompatibleDescription,
  request: ChatCompletionRequest,
  context: ProviderContext,
  options: { stream: boolean; source?: JsonSource },
): UpstreamRequest {
  const body = buildChatBody(request, {
    model: resolveUpstreamModel(description, context),
    stream: options.stream,
    rules: description.chatRulesFor === undefined ? description.chatRules : description.chatRulesFor(context),
  });
  return {
    method: 'POST',
    url: joinUrl(resolveBaseUrl(description, context), description.chatPath ?? CHAT_COMPLETIONS_PATH),
    headers: buildHeaders({
      apiKey: context.key.value,
      stream: options.stream,
      extraHeaders: context.provider.network.extraHeaders,
    }),
    body: serializeWithSource(body, options.source),
  };
}
