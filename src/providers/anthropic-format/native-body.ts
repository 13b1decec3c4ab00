import { NATIVE_MESSAGES_MEMBERS } from '../../spec/anthropic.js';

/**
 * The body of a native Messages request (see `NativeRequest`): the client's members that may travel, as sent, under
 * the model the upstream knows; `stream` only when streaming, as Anthropic's own SDK writes it.
 */
export function nativeMessagesBody(client: Record<string, unknown>, model: string, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  for (const member of NATIVE_MESSAGES_MEMBERS) {
    const value = client[member];
    if (value !== undefined) body[member] = value;
  }
  if (stream) body.stream = true;
  return body;
}
