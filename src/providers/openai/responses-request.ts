/**
 * A client's Responses request sent to OpenAI's `/v1/responses` as written (see `NativeRequest`): the members that
 * may travel, under the model OpenAI knows.
 */
import type { JsonSource } from '../../spec/json-source.js';
import type { ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import { buildHeaders, joinUrl, resolveBaseUrl, resolveUpstreamModel, type CompatibleDescription } from '../openai-compatible/index.js';
import { nativeResponsesBody } from '../openai-responses/index.js';

/** OpenAI's Responses path, appended to the base URL as the chat path is. */
export const RESPONSES_PATH = '/v1/responses';

/**
 * The upstream request of a native Responses call, with the headers and address of the chat requests. With the
 * client's `source`, the members sent unchanged (the input, above all) are copied from the client's bytes.
 */
export function buildNativeResponsesRequest(
  description: CompatibleDescription,
  client: Record<string, unknown>,
  context: ProviderContext,
  options: { stream: boolean; source?: JsonSource },
): UpstreamRequest {
  const { stream } = options;
  return {
    method: 'POST',
    url: joinUrl(resolveBaseUrl(description, context), RESPONSES_PATH),
    headers: buildHeaders({ apiKey: context.key.value, stream, extraHeaders: context.provider.network.extraHeaders }),
    body: serializeWithSource(nativeResponsesBody(client, resolveUpstreamModel(description, context), stream), options.source),
  };
}

/** OpenAI's input-token counter's path: it takes a Responses request's input side. */
export const RESPONSES_INPUT_TOKENS_PATH = '/v1/responses/input_tokens';

/**
 * The members of a Responses request that OpenAI's counter takes (what shapes the input it counts); it refuses the
 * others (`max_output_tokens`, `store`, `include`, ...).
 */
const COUNTED_MEMBERS = ['input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'truncation'] as const;

/** The upstream request counting a Responses request's input tokens with OpenAI's own counter. */
export function buildResponsesCountRequest(description: CompatibleDescription, client: Record<string, unknown>, context: ProviderContext): UpstreamRequest {
  const body: Record<string, unknown> = { model: resolveUpstreamModel(description, context) };
  for (const member of COUNTED_MEMBERS) {
    const value = client[member];
    if (value !== undefined) body[member] = value;
  }
  return {
    method: 'POST',
    url: joinUrl(resolveBaseUrl(description, context), RESPONSES_INPUT_TOKENS_PATH),
    headers: buildHeaders({ apiKey: context.key.value, stream: false, extraHeaders: context.provider.network.extraHeaders }),
    body: JSON.stringify(body),
  };
}
