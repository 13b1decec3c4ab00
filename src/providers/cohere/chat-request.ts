/**
 * OpenAI chat request → Cohere v2 `/v2/chat` body. Pure: no I/O, no clock.
 */
import { errors } from '../../spec/errors.js';
import { callFunction, forcedFunctionName, functionTools } from '../../spec/function-calls.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, FunctionTool, Tool, ToolChoice } from '../../spec/openai.js';
import type {
  CohereChatRequest,
  CohereImageContent,
  CohereMessage,
  CohereTextContent,
  CohereTool,
} from './wire-types.js';

/**
 * Translates an OpenAI chat completion request into Cohere's v2 chat body for `model`.
 * Throws a 400 GatewayError for input Cohere cannot take (audio or file parts, `n` > 1, unknown tool names).
 */
export function toCohereChatRequest(request: ChatCompletionRequest, model: string, options: { stream: boolean }): CohereChatRequest {
  if (typeof request.n === 'number' && request.n > 1) {
    throw errors.badRequest('Cohere returns one choice per request; `n` greater than 1 is not supported.', {
      param: 'n',
      code: 'unsupported_parameter',
    });
  }
  const body: CohereChatRequest = { model, messages: request.messages.map(toCohereMessage).filter(isPresent) };
  if (options.stream) body.stream = true;

  applyTools(body, request.tools, request.tool_choice);

  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') body.max_tokens = maxTokens;
  if (typeof request.temperature === 'number') body.temperature = request.temperature;
  // Cohere documents narrower ranges than OpenAI (p 0.01–0.99, penalties 0–1) and refuses values outside them;
  // OpenAI's own default top_p of 1 would otherwise fail, so values are clamped rather than forwarded.
  if (typeof request.top_p === 'number') body.p = clamp(request.top_p, 0.01, 0.99);
  if (typeof request.top_k === 'number') body.k = clamp(Math.round(request.top_k), 0, 500);
  if (typeof request.seed === 'number') body.seed = request.seed;
  if (typeof request.frequency_penalty === 'number') body.frequency_penalty = clamp(request.frequency_penalty, 0, 1);
  if (typeof request.presence_penalty === 'number') body.presence_penalty = clamp(request.presence_penalty, 0, 1);
  if (typeof request.safety_mode === 'string') body.safety_mode = request.safety_mode;
  if (typeof request.stop === 'string') body.stop_sequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) body.stop_sequences = [...request.stop];

  const format = request.response_format;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (format?.type === 'json_schema') {
    body.response_format = { type: 'json_object', json_schema: format.json_schema.schema ?? {} };
  }
  return body;
}

function toCohereMessage(message: ChatMessage, index: number): CohereMessage | undefined {
  switch (message.role) {
    case 'system':
    case 'developer':
      // Cohere has no developer role; OpenAI defines it as the system prompt of reasoning models.
      return { role: 'system', content: textOnly(message.content, index) };
    case 'user':
      return { role: 'user', content: userContent(message.content, index) };
    case 'assistant':
      return assistantMessage(message, index);
    case 'tool': {
      if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
        throw errors.badRequest('A tool message needs `tool_call_id`.', { param: `messages[${index}].tool_call_id` });
      }
      return { role: 'tool', tool_call_id: message.tool_call_id, content: flattenText(message.content, index) };
    }
    default:
      throw errors.badRequest(`Cohere does not accept messages with role "${message.role}".`, {
        param: `messages[${index}].role`,
        code: 'unsupported_role',
      });
  }
}

function assistantMessage(message: ChatMessage, index: number): CohereMessage | undefined {
  const text = flattenText(message.content, index);
  const toolCalls = message.tool_calls ?? [];
  if (toolCalls.length > 0) {
    const result: CohereMessage = {
      role: 'assistant',
      tool_calls: toolCalls.map((call, callIndex) => {
        const called = callFunction(call, `messages[${index}].tool_calls[${callIndex}]`);
        // Cohere rejects an empty arguments string; an argument-less call is an empty object.
        return { id: call.id, type: 'function' as const, function: { name: called.name, arguments: called.arguments === '' ? '{}' : called.arguments } };
      }),
    };
    // Text written alongside tool calls is Cohere's "tool plan"; responses map it back the same way.
    if (text !== '') result.tool_plan = text;
    return result;
  }
  // An assistant turn with nothing in it carries no information and Cohere refuses empty content.
  if (text === '') return undefined;
  return { role: 'assistant', content: text };
}

function userContent(content: ChatMessage['content'], index: number): string | Array<CohereTextContent | CohereImageContent> {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, partIndex) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'image_url') {
      const image: CohereImageContent = { type: 'image_url', image_url: { url: part.image_url.url } };
      if (part.image_url.detail !== undefined) image.image_url.detail = part.image_url.detail;
      return image;
    }
    throw unsupportedPart(part, index, partIndex);
  });
}

function textOnly(content: ChatMessage['content'], index: number): string | CohereTextContent[] {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, partIndex) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    throw unsupportedPart(part, index, partIndex);
  });
}

function flattenText(content: ChatMessage['content'], index: number): string {
  const value = textOnly(content, index);
  return typeof value === 'string' ? value : value.map((part) => part.text).join('');
}

function unsupportedPart(part: ContentPart, index: number, partIndex: number) {
  return errors.badRequest(`Cohere does not accept "${part.type}" content in this message.`, {
    param: `messages[${index}].content[${partIndex}]`,
    code: 'unsupported_content',
  });
}

function applyTools(body: CohereChatRequest, requested: Tool[] | undefined, choice: ToolChoice | null | undefined): void {
  const tools = functionTools(requested);
  if (tools.length === 0) return;
  let selected = tools;
  if (typeof choice === 'object' && choice !== null) {
    // Cohere cannot name a tool to call; offering only that tool and requiring a call has the same effect.
    const name = forcedFunctionName(choice);
    selected = tools.filter((tool) => tool.function.name === name);
    if (selected.length === 0) {
      throw errors.badRequest(`tool_choice names "${name}", which is not in tools.`, { param: 'tool_choice' });
    }
    body.tool_choice = 'REQUIRED';
  } else if (choice === 'required') {
    body.tool_choice = 'REQUIRED';
  } else if (choice === 'none') {
    body.tool_choice = 'NONE';
  }
  body.tools = selected.map(toCohereTool);
  if (selected.some((tool) => tool.function.strict === true)) body.strict_tools = true;
}

function toCohereTool(tool: FunctionTool): CohereTool {
  const result: CohereTool = { type: 'function', function: { name: tool.function.name } };
  if (tool.function.description !== undefined) result.function.description = tool.function.description;
  if (tool.function.parameters !== undefined) result.function.parameters = tool.function.parameters;
  return result;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function isPresent<T>(value: T | undefined): value is T {
  return value !== undefined;
}
