import { NATIVE_MESSAGES_MEMBERS } from '../../spec/anthropic.js';

/**
 * The body of a native Messages request (see `NativeRequest`): the client's members that may travel, as sent, under
 * the model the upstream knows (none for an upstream that names it in the address); `stream` only when streaming, as
 * Anthropic's own SDK writes it. `members` narrows what may travel, for an upstream that takes fewer of Claude's own.
 */
export function nativeMessagesBody(
  client: Record<string, unknown>,
  model: string | undefined,
  stream: boolean,
  members: readonly string[] = NATIVE_MESSAGES_MEMBERS,
): Record<string, unknown> {
  const body: Record<string, unknown> = model === undefined ? {} : { model };
  for (const member of members) {
    const value = client[member];
    if (value !== undefined) body[member] = value;
  }
  if (stream) body.stream = true;
  return body;
}
