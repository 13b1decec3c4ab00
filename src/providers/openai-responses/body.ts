/**
 * The body of a client's Responses request sent as written (see `NativeRequest`), to OpenAI's `/v1/responses` or Azure
 * OpenAI's `/openai/v1/responses`: the members that may travel, under the model the upstream knows.
 */
import { NATIVE_RESPONSES_MEMBERS } from '../../spec/openai-responses.js';

/**
 * The body of a native Responses request: the client's members that may travel (`NATIVE_RESPONSES_MEMBERS`), as
 * sent, under `model`; `stream` only when streaming, as OpenAI's SDK writes it.
 */
export function nativeResponsesBody(client: Record<string, unknown>, model: string, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  for (const member of NATIVE_RESPONSES_MEMBERS) {
    const value = client[member];
    if (value !== undefined) body[member] = value;
  }
  if (stream) {
    body.stream = true;
    // Only with `stream`: OpenAI refuses stream options on a request that does not stream.
    if (client.stream_options !== undefined) body.stream_options = client.stream_options;
  }
  return body;
}
