/**
 * OpenAI chat request → Anthropic Messages request (reference §3). Pure: no I/O, no clock. Shared by every
 * adapter that speaks the Messages format (Anthropic, Claude on Vertex, ...); they add only addressing and auth.
 */
import type {
  AnthropicCacheControl,
  AnthropicContentBlock,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicTextBlock,
  AnthropicThinkingConfig,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from '../../spec/anthropic.js';
import { CLAUDE_REQUEST_MEMBERS } from '../../spec/anthropic.js';
import { errors } from '../../spec/errors.js';
import { isRecord } from '../../spec/json-value.js';
import { callFunction, forcedFunctionName, functionTools } from '../../spec/function-calls.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../spec/openai.js';
import { filePartToBlock, imageUrlToBlock } from './media.js';

export interface ChatToMessagesOptions {
  /** The model as the upstream knows it; defaults to the request's model. */
  model?: string;
  /** `max_tokens` to send when the client gave none (see `defaultMaxTokensFor`). */
  defaultMaxTokens: number;
}

type Turn = { role: 'user' | 'assistant'; blocks: AnthropicContentBlock[] };

/**
 * Translates an OpenAI chat request into an Anthropic Messages request: system and developer messages are
 * hoisted into `system`, tool results are gathered into user turns, consecutive same-role turns are merged
 * so roles alternate, and OpenAI-only sampling fields are dropped. Throws a 400 GatewayError for content the
 * Messages API cannot carry.
 */
export function chatRequestToMessages(request: ChatCompletionRequest, options: ChatToMessagesOptions): AnthropicMessagesRequest {
  if (typeof request.n === 'number' && request.n > 1) {
    throw errors.badRequest('Anthropic models return a single choice; `n` greater than 1 is not supported.', {
      param: 'n',
      code: 'unsupported_parameter',
    });
  }
  const { system, messages } = convertMessages(request.messages);
  const body: AnthropicMessagesRequest = {
    model: options.model ?? request.model,
    messages,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
  };
  if (system !== undefined) body.system = system;
  applySampling(request, body);
  const stop = stopSequences(request.stop);
  if (stop.length > 0) body.stop_sequences = stop;
  if (typeof request.user === 'string' && request.user !== '') body.metadata = { user_id: request.user };
  applyTools(request, body);
  if (request.response_format?.type === 'json_schema') {
    body.output_config = {
      format: { type: 'json_schema', schema: request.response_format.json_schema.schema ?? { type: 'object' } },
    };
  }
  applyRequestMembers(request.anthropic_request_members, body);
  if (request.stream === true) body.stream = true;
  return body;
}

/**
 * Adds the Claude-only request members of the `anthropic_request_members` extension (those CLAUDE_REQUEST_MEMBERS
 * names, whoever sent the extension): never over a member the translation wrote, and `output_config` merged with
 * the format the translation may have put there.
 */
function applyRequestMembers(members: unknown, body: AnthropicMessagesRequest): void {
  if (!isRecord(members)) return;
  for (const name of CLAUDE_REQUEST_MEMBERS) {
    const value = members[name];
    if (!isRecord(value)) continue;
    if (name === 'output_config') body.output_config = { ...value, ...body.output_config } as AnthropicMessagesRequest['output_config'];
    else if (body[name] === undefined) body[name] = value;
  }
}

function convertMessages(input: ChatMessage[]): { system: AnthropicMessagesRequest['system']; messages: AnthropicMessageParam[] } {
  const systemBlocks: AnthropicTextBlock[] = [];
  const turns: Turn[] = [];
  const append = (role: Turn['role'], blocks: AnthropicContentBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    // The API wants alternating roles, and tool results must sit in the user turn right after the tool calls.
    if (last !== undefined && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  input.forEach((message, index) => {
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        systemBlocks.push(...systemTextBlocks(message.content, `${param}.content`));
        return;
      case 'user':
        append('user', userBlocks(message.content, `${param}.content`));
        return;
      case 'assistant':
        append('assistant', assistantBlocks(message, param));
        return;
      case 'tool':
        append('user', [toolResultBlock(message, param)]);
        return;
      default:
        throw errors.badRequest(`Messages with role "${message.role}" are not supported; use tools and tool messages.`, {
          param: `${param}.role`,
          code: 'unsupported_role',
        });
    }
  });
  trimFinalAssistant(turns);
  const messages = turns.map((turn): AnthropicMessageParam => {
    // The API requires tool_result blocks to open the user turn that answers the tool calls.
    const blocks =
      turn.role === 'user'
        ? [...turn.blocks.filter((block) => block.type === 'tool_result'), ...turn.blocks.filter((block) => block.type !== 'tool_result')]
        : turn.blocks;
    const only = blocks[0];
    if (blocks.length === 1 && only?.type === 'text' && Object.keys(only).length === 2) return { role: turn.role, content: only.text };
    return { role: turn.role, content: blocks };
  });
  return { system: systemValue(systemBlocks), messages };
}

/** A plain string when no block carries cache_control, so the common case stays the common wire shape. */
function systemValue(blocks: AnthropicTextBlock[]): AnthropicMessagesRequest['system'] {
  if (blocks.length === 0) return undefined;
  if (blocks.every((block) => block.cache_control === undefined)) return blocks.map((block) => block.text).join('\n\n');
  return blocks;
}

/** The API rejects a final assistant turn (a prefill) that ends in whitespace. */
function trimFinalAssistant(turns: Turn[]): void {
  const last = turns.at(-1);
  if (last?.role !== 'assistant') return;
  const block = last.blocks.at(-1);
  if (block?.type !== 'text') return;
  block.text = block.text.trimEnd();
  if (block.text === '') last.blocks.pop();
  if (last.blocks.length === 0) turns.pop();
}

function cacheControlOf(part: unknown): AnthropicCacheControl | undefined {
  const value = (part as Record<string, unknown>).cache_control;
  return value !== null && typeof value === 'object' ? (value as AnthropicCacheControl) : undefined;
}

function textBlock(text: string, cacheControl: AnthropicCacheControl | undefined): AnthropicTextBlock {
  const block: AnthropicTextBlock = { type: 'text', text };
  if (cacheControl !== undefined) block.cache_control = cacheControl;
  return block;
}

function systemTextBlocks(content: ChatMessage['content'], param: string): AnthropicTextBlock[] {
  if (content === null || content === undefined || content === '') return [];
  if (typeof content === 'string') return [textBlock(content, undefined)];
  return content.flatMap((part, index) => {
    if (part.type !== 'text') {
      throw errors.badRequest('System messages may only contain text.', { param: `${param}[${index}]`, code: 'invalid_content' });
    }
    return part.text === '' ? [] : [textBlock(part.text, cacheControlOf(part))];
  });
}

/** User content as blocks; empty text is dropped because the API rejects empty text blocks. */
function userBlocks(content: ChatMessage['content'], param: string): AnthropicContentBlock[] {
  if (content === null || content === undefined || content === '') return [];
  if (typeof content === 'string') return [textBlock(content, undefined)];
  return content.flatMap((part, index) => partToBlocks(part, `${param}[${index}]`));
}

function partToBlocks(part: ContentPart, param: string): AnthropicContentBlock[] {
  const cacheControl = cacheControlOf(part);
  switch (part.type) {
    case 'text':
      return part.text === '' ? [] : [textBlock(part.text, cacheControl)];
    case 'image_url': {
      const block = imageUrlToBlock(part.image_url.url, `${param}.image_url.url`);
      if (cacheControl !== undefined) block.cache_control = cacheControl;
      return [block];
    }
    case 'file': {
      const block = filePartToBlock(part.file, `${param}.file`);
      if (cacheControl !== undefined) block.cache_control = cacheControl;
      return [block];
    }
    case 'input_audio':
      throw errors.badRequest('Anthropic models do not accept audio input.', { param, code: 'unsupported_content' });
    default:
      throw errors.badRequest(`Unsupported content part type "${(part as { type: string }).type}".`, {
        param,
        code: 'unsupported_content',
      });
  }
}

/**
 * Thinking blocks travel through the OpenAI format as the non-standard `thinking_blocks` field (as Anthropic
 * returned them, signature included): the API demands them back on tool-use turns while thinking is on.
 */
function thinkingBlocks(message: ChatMessage): AnthropicContentBlock[] {
  const value = message.thinking_blocks;
  if (!Array.isArray(value)) return [];
  return value.flatMap((item): AnthropicContentBlock[] => {
    if (item === null || typeof item !== 'object') return [];
    const record = item as Record<string, unknown>;
    // Unsigned thinking (from a non-Anthropic model) would be rejected as tampered; it is left out.
    if (record.type === 'thinking' && typeof record.thinking === 'string' && typeof record.signature === 'string' && record.signature !== '') {
      return [{ type: 'thinking', thinking: record.thinking, signature: record.signature }];
    }
    if (record.type === 'redacted_thinking' && typeof record.data === 'string') return [{ type: 'redacted_thinking', data: record.data }];
    return [];
  });
}

function assistantBlocks(message: ChatMessage, param: string): AnthropicContentBlock[] {
  const blocks = thinkingBlocks(message);
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') blocks.push(textBlock(content, undefined));
  } else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      const record = part as unknown as Record<string, unknown>;
      if (part.type === 'text') {
        if (part.text !== '') blocks.push(textBlock(part.text, cacheControlOf(part)));
      } else if (record.type === 'refusal' && typeof record.refusal === 'string') {
        if (record.refusal !== '') blocks.push(textBlock(record.refusal, undefined));
      } else {
        throw errors.badRequest('Assistant messages may only contain text.', { param: `${param}.content[${index}]`, code: 'invalid_content' });
      }
    });
  }
  (message.tool_calls ?? []).forEach((call, index) => {
    const called = callFunction(call, `${param}.tool_calls[${index}]`);
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: called.name,
      input: parseArguments(called.arguments, `${param}.tool_calls[${index}].function.arguments`),
    });
  });
  return blocks;
}

/** Tool arguments arrive as JSON text; the API wants the object. */
function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw errors.badRequest('Tool call arguments must be valid JSON.', { param, code: 'invalid_tool_arguments' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw errors.badRequest('Tool call arguments must be a JSON object.', { param, code: 'invalid_tool_arguments' });
  }
  return value as Record<string, unknown>;
}

function toolResultBlock(message: ChatMessage, param: string): AnthropicToolResultBlock {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
    throw errors.badRequest('Tool messages need a `tool_call_id`.', { param: `${param}.tool_call_id`, code: 'missing_tool_call_id' });
  }
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: message.tool_call_id };
  // The extension a Messages client's failed tool result travels as (chat has no error flag).
  if (message.is_error === true) block.is_error = true;
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') block.content = content;
  } else if (Array.isArray(content)) {
    const parts = content.flatMap((part, index) => partToBlocks(part, `${param}.content[${index}]`));
    const allowed = parts.filter(
      (part): part is Exclude<AnthropicToolResultBlock['content'], string | undefined>[number] =>
        part.type === 'text' || part.type === 'image' || part.type === 'document',
    );
    if (allowed.length > 0) block.content = allowed;
  }
  return block;
}

function applySampling(request: ChatCompletionRequest, body: AnthropicMessagesRequest): void {
  const thinking = thinkingConfig(request.thinking);
  if (thinking !== undefined) body.thinking = thinking;
  // With thinking on, the API accepts no temperature or top_k and only a narrow top_p; leave all to it.
  if (thinking !== undefined && thinking.type !== 'disabled') return;
  if (typeof request.temperature === 'number') {
    // OpenAI's range is 0..2, Anthropic's 0..1.
    body.temperature = Math.min(1, Math.max(0, request.temperature));
  } else if (typeof request.top_p === 'number') {
    // Recent Claude models reject temperature and top_p together; temperature wins when both are given.
    body.top_p = request.top_p;
  }
  if (typeof request.top_k === 'number') body.top_k = request.top_k;
}

/** Reads the Anthropic `thinking` extension a client may send on /v1/chat/completions. */
function thinkingConfig(value: unknown): AnthropicThinkingConfig | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (record.type === 'enabled' && typeof record.budget_tokens === 'number') return { ...record, type: 'enabled', budget_tokens: record.budget_tokens };
  if (record.type === 'adaptive') return { ...record, type: 'adaptive' };
  if (record.type === 'disabled') return { type: 'disabled' };
  return undefined;
}

function stopSequences(stop: ChatCompletionRequest['stop']): string[] {
  if (typeof stop === 'string') return stop === '' ? [] : [stop];
  if (Array.isArray(stop)) return stop.filter((value) => typeof value === 'string' && value !== '');
  return [];
}

function applyTools(request: ChatCompletionRequest, body: AnthropicMessagesRequest): void {
  const tools = functionTools(request.tools);
  // A tool_choice without tools is an error upstream; OpenAI clients send it harmlessly.
  if (tools.length === 0) return;
  body.tools = tools.map((tool): AnthropicTool => {
    const converted: AnthropicTool = {
      name: tool.function.name,
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    };
    if (tool.function.description !== undefined) converted.description = tool.function.description;
    if (tool.function.strict === true) converted.strict = true;
    const cacheControl = cacheControlOf(tool);
    if (cacheControl !== undefined) converted.cache_control = cacheControl;
    return converted;
  });
  const choice = toolChoice(request.tool_choice);
  if (request.parallel_tool_calls === false) {
    const base = choice ?? { type: 'auto' };
    body.tool_choice = base.type === 'none' ? base : { ...base, disable_parallel_tool_use: true };
  } else if (choice !== undefined) {
    body.tool_choice = choice;
  }
}

function toolChoice(choice: ChatCompletionRequest['tool_choice']): AnthropicToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: forcedFunctionName(choice) };
}
