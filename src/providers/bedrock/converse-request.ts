/**
 * Translates an OpenAI chat completion request into a Bedrock Converse request body.
 */
import { CLAUDE_REQUEST_MEMBERS } from '../../spec/anthropic.js';
import { mergeAnthropicBetas, readAnthropicBetas } from '../../spec/anthropic-beta.js';
import { errors } from '../../spec/errors.js';
import { isRecord } from '../../spec/json-value.js';
import { callFunction, forcedFunctionName, functionTools } from '../../spec/function-calls.js';
import type { ChatCompletionRequest, ChatMessage } from '../../spec/openai.js';
import { cachePointOf, lastCachePointOf, textSegments } from './cache-point.js';
import { DocumentNamer, textOf, userContentBlocks } from './converse-content.js';
import type {
  ConverseContentBlock,
  ConverseInferenceConfig,
  ConverseMessage,
  ConverseRequest,
  ConverseSystemBlock,
  ConverseTool,
  ConverseToolConfig,
  ConverseToolResultBlock,
  ConverseToolSpecification,
} from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME, structuredOutputTool } from './structured-output.js';

/**
 * Bedrock requires the conversation to start with a user turn; a history that opens with the assistant
 * (a greeting, say) gets this minimal user turn in front of it.
 */
export const LEADING_USER_PLACEHOLDER = '.';

/** Builds the Converse body for a chat completion request (the same body serves Converse and ConverseStream). */
export function toConverseRequest(request: ChatCompletionRequest): ConverseRequest {
  if (typeof request.n === 'number' && request.n > 1) {
    throw errors.badRequest('Bedrock returns a single choice; n must be 1.', { code: 'unsupported_parameter', param: 'n' });
  }
  const system: ConverseSystemBlock[] = [];
  const turns: ConverseMessage[] = [];
  const namer = new DocumentNamer();

  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content));
        break;
      case 'user':
        turns.push({ role: 'user', content: userContentBlocks(message.content, namer, index) });
        break;
      case 'assistant':
        turns.push({ role: 'assistant', content: assistantBlocks(message, index) });
        break;
      case 'tool':
      case 'function':
        turns.push({ role: 'user', content: toolResultBlocks(message, index) });
        break;
      default:
        throw errors.badRequest(`Unsupported message role for Bedrock.`, { code: 'invalid_role', param: `messages[${index}].role` });
    }
  });

  const messages = mergeTurns(turns.filter((turn) => turn.content.length > 0));
  if (messages[0]?.role === 'assistant') {
    messages.unshift({ role: 'user', content: [{ text: LEADING_USER_PLACEHOLDER }] });
  }

  const body: ConverseRequest = { messages };
  if (system.length > 0) body.system = system;
  const inferenceConfig = toInferenceConfig(request);
  if (inferenceConfig !== undefined) body.inferenceConfig = inferenceConfig;
  const toolConfig = toToolConfig(request, messages);
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  const additional = additionalFields(request);
  if (additional !== undefined) body.additionalModelRequestFields = additional;
  return body;
}

/**
 * Text-only content (system, developer, assistant) as text blocks, each marked part closing its block with a
 * cache point. Blank text is dropped (Bedrock rejects blank text blocks), and with it the cache point that
 * would have followed it, as the Anthropic route drops the marker of an empty block.
 */
function textBlocks(content: ChatMessage['content']): ConverseSystemBlock[] {
  // System blocks are the text and cache point shapes of message content blocks, so they serve both.
  const blocks: ConverseSystemBlock[] = [];
  for (const segment of textSegments(content)) {
    if (segment.text.trim() === '') continue;
    blocks.push({ text: segment.text });
    if (segment.cachePoint !== undefined) blocks.push({ cachePoint: segment.cachePoint });
  }
  return blocks;
}

function assistantBlocks(message: ChatMessage, messageIndex: number): ConverseContentBlock[] {
  const blocks: ConverseContentBlock[] = textBlocks(message.content);
  (message.tool_calls ?? []).forEach((call, callIndex) => {
    const called = callFunction(call, `messages[${messageIndex}].tool_calls[${callIndex}]`);
    blocks.push({
      toolUse: {
        toolUseId: call.id,
        name: called.name,
        input: parseArguments(called.arguments, `messages[${messageIndex}].tool_calls[${callIndex}].function.arguments`),
      },
    });
  });
  return blocks;
}

function parseArguments(raw: string | undefined, param: string): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw errors.badRequest('Tool call arguments must be a JSON object.', { code: 'invalid_tool_arguments', param });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw errors.badRequest('Tool call arguments must be a JSON object.', { code: 'invalid_tool_arguments', param });
  }
  return parsed as Record<string, unknown>;
}

function toolResultBlocks(message: ChatMessage, index: number): ConverseContentBlock[] {
  // Legacy `function` messages name the function instead of a call id; the name is the best id there is.
  const toolUseId = message.tool_call_id ?? message.name;
  if (toolUseId === undefined || toolUseId === '') {
    throw errors.badRequest('A tool message needs a tool_call_id.', { code: 'missing_tool_call_id', param: `messages[${index}].tool_call_id` });
  }
  const text = textOf(message.content);
  const toolResult: ConverseToolResultBlock = { toolUseId, content: text === '' ? [] : [{ text }] };
  if (message.is_error === true) {
    // A failed tool result (the Messages `is_error` extension) as Converse says it; Bedrock wants content with it.
    toolResult.status = 'error';
    if (toolResult.content.length === 0) toolResult.content = [{ text: 'Error' }];
  }
  const blocks: ConverseContentBlock[] = [{ toolResult }];
  // A tool result's own content cannot hold a cache point, so a marked part closes the whole result.
  const cachePoint = lastCachePointOf(message.content);
  if (cachePoint !== undefined) blocks.push({ cachePoint });
  return blocks;
}

/**
 * Bedrock requires strictly alternating roles, so consecutive turns of one role become one message. Within a
 * merged message, tool results go first in user turns and text goes before tool use in assistant turns, the
 * orders Bedrock's validation accepts. A cache point moves with the block it follows, so it still closes the
 * prefix the client marked instead of landing after some other block.
 */
function mergeTurns(turns: ConverseMessage[]): ConverseMessage[] {
  const merged: ConverseMessage[] = [];
  for (const turn of turns) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && previous.role === turn.role) previous.content.push(...turn.content);
    else merged.push({ role: turn.role, content: [...turn.content] });
  }
  for (const message of merged) {
    const isLeading = (block: ConverseContentBlock): boolean =>
      message.role === 'user' ? block.toolResult !== undefined : block.toolUse === undefined;
    const groups: ConverseContentBlock[][] = [];
    for (const block of message.content) {
      const last = groups[groups.length - 1];
      if (block.cachePoint !== undefined && last !== undefined) last.push(block);
      else groups.push([block]);
    }
    const leading = groups.filter((group) => isLeading(group[0]!));
    const trailing = groups.filter((group) => !isLeading(group[0]!));
    message.content = [...leading, ...trailing].flat();
  }
  return merged;
}

function toInferenceConfig(request: ChatCompletionRequest): ConverseInferenceConfig | undefined {
  const config: ConverseInferenceConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxTokens = maxTokens;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = [...request.stop];
  return Object.keys(config).length > 0 ? config : undefined;
}

function toToolConfig(request: ChatCompletionRequest, messages: ConverseMessage[]): ConverseToolConfig | undefined {
  const historyHasToolBlocks = messages.some((message) =>
    message.content.some((block) => block.toolUse !== undefined || block.toolResult !== undefined),
  );
  const choice = request.tool_choice;
  const clientTools: ConverseTool[] = functionTools(request.tools).flatMap((tool): ConverseTool[] => {
    const specification: ConverseToolSpecification = {
      toolSpec: {
        name: tool.function.name,
        ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
        inputSchema: { json: tool.function.parameters ?? { type: 'object', properties: {} } },
      },
    };
    // A marked tool caches the definitions up to and including it, as cache_control on an Anthropic tool does.
    const cachePoint = cachePointOf(tool);
    return cachePoint === undefined ? [specification] : [specification, { cachePoint }];
  });
  const structured = structuredOutputTool(request);

  // Converse has no "none" choice: leaving the tools out is the only way to stop the model from calling one,
  // unless the history holds tool blocks, which Bedrock refuses to accept without a toolConfig.
  const forbidTools = choice === 'none';
  let tools = forbidTools && !historyHasToolBlocks ? [] : clientTools;
  if (structured !== undefined && !tools.some((tool) => 'toolSpec' in tool && tool.toolSpec.name === STRUCTURED_OUTPUT_TOOL_NAME)) {
    tools = [...tools, structured];
  }
  if (tools.length === 0 && historyHasToolBlocks) tools = stubTools(messages);
  if (tools.length === 0) return undefined;

  const config: ConverseToolConfig = { tools };
  if (!forbidTools && clientTools.length > 0) {
    if (choice === 'auto') config.toolChoice = { auto: {} };
    else if (choice === 'required') config.toolChoice = { any: {} };
    else if (typeof choice === 'object' && choice !== null) config.toolChoice = { tool: { name: forcedFunctionName(choice) } };
  } else if (structured !== undefined) {
    // No client tool may be called, so the structured answer is the only way to reply: force it.
    config.toolChoice = { tool: { name: STRUCTURED_OUTPUT_TOOL_NAME } };
  }
  return config;
}

/**
 * Bedrock answers 400 when tool blocks appear in the history without a toolConfig; when the client sent no
 * tools, each tool named in the history is declared with an open schema so the history stays valid.
 */
function stubTools(messages: ConverseMessage[]): ConverseToolSpecification[] {
  const names = new Set<string>();
  for (const message of messages) for (const block of message.content) if (block.toolUse) names.add(block.toolUse.name);
  if (names.size === 0) names.add('previous_tool');
  return [...names].map((name) => ({
    toolSpec: { name, description: 'A tool used earlier in this conversation.', inputSchema: { json: { type: 'object' } } },
  }));
}

function additionalFields(request: ChatCompletionRequest): Record<string, unknown> | undefined {
  const fields: Record<string, unknown> = {};
  // Clients talking to Bedrock through Tollgate may send model-specific fields (Anthropic `thinking`, ...) here.
  const passed = request.additionalModelRequestFields;
  if (passed !== null && typeof passed === 'object' && !Array.isArray(passed)) Object.assign(fields, passed);
  if (typeof request.top_k === 'number') fields.top_k = request.top_k;
  // Claude-only members of a Messages request (context_management, ...) go where Converse takes the model's own fields.
  const members = request.anthropic_request_members;
  if (isRecord(members)) for (const name of CLAUDE_REQUEST_MEMBERS) if (isRecord(members[name]) && fields[name] === undefined) fields[name] = members[name];
  // Claude on Bedrock takes beta features in the body; a list a client put here itself is kept first.
  const betas = readAnthropicBetas(request.anthropic_beta, 'anthropic_beta');
  if (betas !== undefined) fields.anthropic_beta = mergeAnthropicBetas(readAnthropicBetas(fields.anthropic_beta, 'additionalModelRequestFields.anthropic_beta'), betas);
  return Object.keys(fields).length > 0 ? fields : undefined;
}
