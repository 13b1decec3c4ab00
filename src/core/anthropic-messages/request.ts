/**
 * Anthropic Messages request (what @anthropic-ai/sdk clients send to Tollgate's `POST /v1/messages`) → the
 * canonical OpenAI chat request, so that any provider can answer it. The inverse of the Anthropic-format
 * request translation in src/providers/anthropic-format.
 */
import type {
  AnthropicContentBlock,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolResultBlock,
} from '../../spec/anthropic.js';
import { CLAUDE_REQUEST_MEMBERS } from '../../spec/anthropic.js';
import { errors } from '../../spec/errors.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, FunctionTool, TextPart, ToolCall, ToolChoice } from '../../spec/openai.js';
import { isRecord } from '../../spec/json-value.js';

export interface MessagesToChatOptions {
  /**
   * Keep Anthropic-only features as extension fields: `cache_control` on text, image and file parts and on
   * tools, `thinking`, `top_k`, assistant `thinking_blocks`, a tool result's `is_error`, and the members of
   * CLAUDE_REQUEST_MEMBERS. The Anthropic-format providers read them
   * back; OpenAI-compatible servers may reject them, so set this only when the route ends at a Claude model.
   */
  anthropicExtensions?: boolean;
  /** The client's `anthropic-beta` names, kept as the `anthropic_beta` extension (with `anthropicExtensions` only). */
  betas?: readonly string[];
}

/**
 * Translates an Anthropic Messages request into an OpenAI chat request. `system` becomes the first system
 * message, `tool_use` blocks become `tool_calls`, `tool_result` blocks become tool messages (placed before the
 * rest of their user turn), images become `image_url` parts and PDFs `file` parts. `model` is kept as sent.
 */
export function messagesRequestToChat(body: AnthropicMessagesRequest, options: MessagesToChatOptions = {}): ChatCompletionRequest {
  if (!isRecord(body) || !Array.isArray(body.messages)) {
    throw errors.badRequest('messages: Field required', { param: 'messages', code: 'invalid_request' });
  }
  const extensions = options.anthropicExtensions === true;
  const messages: ChatMessage[] = [];
  const system = systemMessage(body.system, extensions);
  if (system !== undefined) messages.push(system);
  body.messages.forEach((message, index) => messages.push(...convertMessage(message, `messages.${index}`, extensions)));

  const request: ChatCompletionRequest = { model: body.model, messages };
  if (typeof body.max_tokens === 'number') request.max_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (extensions && typeof body.top_k === 'number') request.top_k = body.top_k;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  const userId = body.metadata?.user_id;
  if (typeof userId === 'string' && userId !== '') request.user = userId;
  if (extensions && isRecord(body.thinking)) request.thinking = body.thinking;
  if (extensions && options.betas !== undefined && options.betas.length > 0) request.anthropic_beta = [...options.betas];
  if (extensions) {
    const members = claudeRequestMembers(body);
    if (members !== undefined) request.anthropic_request_members = members;
  }
  const format = body.output_config?.format;
  if (isRecord(format) && format.type === 'json_schema') {
    request.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
  }
  applyTools(body, request, extensions);
  if (body.stream === true) {
    request.stream = true;
    // The /v1/messages stream ends with usage in message_delta, so usage is always wanted.
    request.stream_options = { include_usage: true };
  }
  return request;
}

/**
 * The members of CLAUDE_REQUEST_MEMBERS the client sent, `output_config` without the format the translation
 * carries as `response_format`; undefined when there are none.
 */
function claudeRequestMembers(body: AnthropicMessagesRequest): Record<string, unknown> | undefined {
  const members: Record<string, unknown> = {};
  for (const name of CLAUDE_REQUEST_MEMBERS) {
    const value = body[name];
    if (!isRecord(value)) continue;
    if (name !== 'output_config') members[name] = value;
    else {
      const { format: _format, ...rest } = value;
      if (Object.keys(rest).length > 0) members[name] = rest;
    }
  }
  return Object.keys(members).length > 0 ? members : undefined;
}

function textPart(block: AnthropicTextBlock, extensions: boolean): TextPart {
  const part: TextPart = { type: 'text', text: block.text };
  if (extensions && isRecord(block.cache_control)) part.cache_control = block.cache_control;
  return part;
}

/** Parts when cache markers must travel, else plain text, the form every upstream accepts. */
function textContent(blocks: AnthropicTextBlock[], extensions: boolean): string | TextPart[] {
  if (extensions && blocks.some((block) => isRecord(block.cache_control))) return blocks.map((block) => textPart(block, true));
  return blocks.map((block) => block.text).join('\n\n');
}

function systemMessage(system: AnthropicMessagesRequest['system'], extensions: boolean): ChatMessage | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system };
  const blocks = system.filter((block) => block.type === 'text');
  return blocks.length === 0 ? undefined : { role: 'system', content: textContent(blocks, extensions) };
}

function blocksOf(content: AnthropicMessageParam['content']): AnthropicContentBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
}

function convertMessage(message: AnthropicMessageParam, param: string, extensions: boolean): ChatMessage[] {
  switch (message.role) {
    case 'system': {
      const blocks = blocksOf(message.content).filter((block): block is AnthropicTextBlock => block.type === 'text');
      return blocks.length === 0 ? [] : [{ role: 'system', content: textContent(blocks, extensions) }];
    }
    case 'assistant':
      return [assistantMessage(message.content, extensions)];
    case 'user':
      return userMessages(message.content, param, extensions);
    default:
      throw errors.badRequest(`${param}.role: Input should be 'user' or 'assistant'`, { param: `${param}.role`, code: 'invalid_request' });
  }
}

function assistantMessage(content: AnthropicMessageParam['content'], extensions: boolean): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: unknown[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of blocksOf(content)) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'thinking') {
      reasoning.push(block.thinking);
      thinkingBlocks.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') {
      thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
    }
    // Server-tool blocks (server_tool_use, web_search_tool_result, ...) have no chat form and are left out.
  }
  const message: ChatMessage = { role: 'assistant', content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join('') };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (extensions && thinkingBlocks.length > 0) {
    message.reasoning_content = reasoning.join('');
    message.thinking_blocks = thinkingBlocks;
  }
  return message;
}

/**
 * One user turn → tool messages (one per tool_result, in order) followed by a user message with the rest.
 * Chat tool messages carry only text, so images inside tool results move into that user message.
 */
function userMessages(content: AnthropicMessageParam['content'], param: string, extensions: boolean): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const toolMessages: ChatMessage[] = [];
  const movedParts: ContentPart[] = [];
  const parts: ContentPart[] = [];
  blocksOf(content).forEach((block, index) => {
    const blockParam = `${param}.content.${index}`;
    if (block.type === 'tool_result') {
      toolMessages.push(toolMessage(block, blockParam, movedParts, extensions));
    } else if (block.type === 'text') {
      parts.push(textPart(block, extensions));
    } else if (block.type === 'image' || block.type === 'document') {
      parts.push(mediaPart(block, blockParam, extensions));
    }
    // Thinking or tool_use blocks in a user turn are invalid upstream; they carry nothing a chat model can use.
  });
  const userParts = [...movedParts, ...parts];
  if (userParts.length === 0) return toolMessages;
  const simple = userParts.every((part) => part.type === 'text' && !('cache_control' in part));
  const userContent = simple ? (userParts as TextPart[]).map((part) => part.text).join('\n\n') : userParts;
  return [...toolMessages, { role: 'user', content: userContent }];
}

function toolMessage(block: AnthropicToolResultBlock, param: string, movedParts: ContentPart[], extensions: boolean): ChatMessage {
  const texts: AnthropicTextBlock[] = [];
  if (typeof block.content === 'string') texts.push({ type: 'text', text: block.content });
  else if (Array.isArray(block.content)) {
    block.content.forEach((item, index) => {
      if (item.type === 'text') texts.push(item);
      else if (item.type === 'image' || item.type === 'document') movedParts.push(mediaPart(item, `${param}.content.${index}`, extensions));
    });
  }
  // Chat has no error flag on tool results: Claude upstreams get it back from the `is_error` extension; for the
  // others, saying so in the text keeps the model informed.
  const flagged = block.is_error === true && extensions;
  if (block.is_error === true && !extensions) {
    const first = texts[0];
    if (first === undefined) texts.push({ type: 'text', text: 'Error' });
    else texts[0] = { ...first, text: `Error: ${first.text}` };
  }
  if (extensions && isRecord(block.cache_control) && texts.length > 0) {
    // The breakpoint moves to the last text of the result, which caches the same prefix.
    const last = texts.length - 1;
    texts[last] = { ...texts[last]!, cache_control: block.cache_control };
  }
  const message: ChatMessage = { role: 'tool', tool_call_id: block.tool_use_id, content: texts.length === 0 ? '' : textContent(texts, extensions) };
  if (flagged) message.is_error = true;
  return message;
}

function mediaPart(block: AnthropicImageBlock | AnthropicDocumentBlock, param: string, extensions: boolean): ContentPart {
  const part = mediaPartWithoutCache(block, param);
  if (extensions && isRecord(block.cache_control)) (part as unknown as Record<string, unknown>).cache_control = block.cache_control;
  return part;
}

function mediaPartWithoutCache(block: AnthropicImageBlock | AnthropicDocumentBlock, param: string): ContentPart {
  const source = block.source;
  if (source.type === 'base64') {
    const dataUri = `data:${source.media_type};base64,${source.data}`;
    if (block.type === 'image') return { type: 'image_url', image_url: { url: dataUri } };
    const file: { file_data: string; filename?: string } = { file_data: dataUri };
    if (typeof block.title === 'string' && block.title !== '') file.filename = block.title;
    return { type: 'file', file };
  }
  if (source.type === 'url' && block.type === 'image') return { type: 'image_url', image_url: { url: source.url } };
  if (source.type === 'text') return { type: 'text', text: source.data };
  if (source.type === 'content') {
    const text = typeof source.content === 'string' ? source.content : source.content.map((item) => item.text).join('\n\n');
    return { type: 'text', text };
  }
  throw errors.badRequest(`${param}.source: ${source.type} sources are not supported by this gateway; send the content as base64.`, {
    param: `${param}.source`,
    code: 'unsupported_content',
  });
}

function applyTools(body: AnthropicMessagesRequest, request: ChatCompletionRequest, extensions: boolean): void {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length > 0) request.tools = tools.map((tool, index) => functionTool(tool, `tools.${index}`, extensions));
  const choice = body.tool_choice;
  if (!isRecord(choice)) return;
  let converted: ToolChoice | undefined;
  if (choice.type === 'auto') converted = 'auto';
  else if (choice.type === 'any') converted = 'required';
  else if (choice.type === 'none') converted = 'none';
  else if (choice.type === 'tool') converted = { type: 'function', function: { name: choice.name } };
  if (converted !== undefined) request.tool_choice = converted;
  if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) request.parallel_tool_calls = false;
}

function functionTool(tool: AnthropicTool, param: string, extensions: boolean): FunctionTool {
  if (tool.type !== undefined && tool.type !== 'custom') {
    throw errors.badRequest(`${param}: server tools such as ${tool.type} are not supported by this gateway.`, {
      param,
      code: 'unsupported_tool',
    });
  }
  const definition: FunctionTool['function'] = { name: tool.name, parameters: tool.input_schema ?? { type: 'object', properties: {} } };
  if (typeof tool.description === 'string') definition.description = tool.description;
  if (tool.strict === true) definition.strict = true;
  const converted: FunctionTool = { type: 'function', function: definition };
  if (extensions && isRecord(tool.cache_control)) (converted as unknown as Record<string, unknown>).cache_control = tool.cache_control;
  return converted;
}
