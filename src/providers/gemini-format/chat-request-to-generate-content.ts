/**
 * OpenAI chat request → Gemini GenerateContentRequest (the same body serves the Gemini API and Vertex AI).
 */
import { errors } from '../../spec/errors.js';
import { callFunction, forcedFunctionName, functionTools } from '../../spec/function-calls.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolChoice } from '../../spec/openai.js';
import { toGeminiSchema } from './gemini-schema.js';
import { audioMimeType, mediaPart, mimeTypeFromName } from './media.js';
import { readThoughtSignature } from './tool-call-id.js';
import type {
  GeminiContent,
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiThinkingConfig,
  GeminiToolConfig,
  GenerateContentRequest,
} from './types.js';

/**
 * Google's documented placeholder for replayed Gemini 3 function calls whose real signature was lost
 * (e.g. history written by another client); without any signature Gemini 3 answers 400.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export interface GenerateContentOptions {
  /** The upstream model id; decides how reasoning effort and thought signatures are expressed. */
  model: string;
}

/** Token budgets Google's own OpenAI compatibility layer uses for reasoning_effort on Gemini 2.5. */
const THINKING_BUDGETS: Record<string, number> = { none: 0, minimal: 1024, low: 1024, medium: 8192, high: 24576 };

/** True for Gemini 3 and later, which take thinking levels and validate thought signatures. */
function isGemini3OrLater(model: string): boolean {
  const match = /(?:^|\/)gemini-(\d+)/.exec(model);
  return match?.[1] !== undefined && Number(match[1]) >= 3;
}

/**
 * Translates an OpenAI chat request. Throws a 400 GatewayError for input Gemini cannot express
 * (invalid tool-call arguments, a tool result whose call is unknown).
 */
export function chatRequestToGenerateContent(
  request: ChatCompletionRequest,
  options: GenerateContentOptions,
): GenerateContentRequest {
  const systemParts: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const functionNames = new Map<string, string>();
  const gemini3 = isGemini3OrLater(options.model);

  const append = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    // Gemini wants strictly alternating turns; consecutive same-role messages become one turn.
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        systemParts.push(...textOnlyParts(message.content));
        break;
      case 'user':
        append('user', userParts(message.content, index));
        break;
      case 'assistant':
        append('model', assistantParts(message, index, functionNames, gemini3));
        break;
      case 'tool':
      case 'function':
        append('user', [toolResultPart(message, index, functionNames)]);
        break;
      default:
        throw errors.badRequest(`Unsupported message role '${String(message.role)}'.`, { param: `messages[${index}].role` });
    }
  });

  const body: GenerateContentRequest = { contents };
  if (systemParts.length > 0) body.systemInstruction = { parts: systemParts };

  const declarations = functionDeclarations(request);
  if (declarations.length > 0) body.tools = [{ functionDeclarations: declarations }];
  const toolConfig = toolConfigFor(request.tool_choice);
  if (toolConfig && declarations.length > 0) body.toolConfig = toolConfig;

  const generationConfig = generationConfigFor(request, gemini3);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;

  // Non-standard passthrough: OpenAI has no safety settings, so clients that need them send Google's own field.
  const safety = request.safetySettings ?? request.safety_settings;
  if (Array.isArray(safety)) body.safetySettings = safety as GenerateContentRequest['safetySettings'];
  return body;
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

function textOnlyParts(content: ChatMessage['content']): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  return content.filter((part) => part.type === 'text' && part.text.length > 0).map((part) => ({ text: (part as { text: string }).text }));
}

function userParts(content: ChatMessage['content'], index: number): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((part, partIndex): GeminiPart => {
    const param = `messages[${index}].content[${partIndex}]`;
    switch (part.type) {
      case 'text':
        return { text: part.text };
      case 'image_url':
        return mediaPart(part.image_url.url, 'image/jpeg');
      case 'input_audio':
        return { inlineData: { mimeType: audioMimeType(part.input_audio.format), data: part.input_audio.data } };
      case 'file': {
        const { file_data: fileData, file_id: fileId, filename } = part.file;
        if (fileData) {
          if (fileData.startsWith('data:')) return mediaPart(fileData, 'application/pdf', filename);
          return { inlineData: { mimeType: mimeTypeFromName(filename, 'application/pdf'), data: fileData } };
        }
        if (fileId) return mediaPart(fileId, 'application/pdf', filename);
        throw errors.badRequest('A file part needs file_data or file_id.', { param });
      }
      default:
        throw errors.badRequest(`Unsupported content part type '${(part as { type: string }).type}'.`, { param });
    }
  });
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.badRequest('Tool call arguments must be a JSON object.', { param });
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  throw errors.badRequest('Tool call arguments must be a JSON object.', { param });
}

function assistantParts(
  message: ChatMessage,
  index: number,
  functionNames: Map<string, string>,
  gemini3: boolean,
): GeminiPart[] {
  const parts = textOnlyParts(message.content);
  const calls: GeminiPart[] = [];
  (message.tool_calls ?? []).forEach((call, callIndex) => {
    const called = callFunction(call, `messages[${index}].tool_calls[${callIndex}]`);
    functionNames.set(call.id, called.name);
    const part: GeminiPart = {
      functionCall: {
        name: called.name,
        args: parseArguments(called.arguments, `messages[${index}].tool_calls[${callIndex}].function.arguments`),
      },
    };
    const signature = readThoughtSignature(call.id);
    if (signature) part.thoughtSignature = signature;
    calls.push(part);
  });
  // Gemini 3 validates the signature of the first function call of each step (parallel calls carry one).
  const first = calls[0];
  if (gemini3 && first && !calls.some((part) => part.thoughtSignature)) first.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
  return [...parts, ...calls];
}

function toolResultPart(message: ChatMessage, index: number, functionNames: Map<string, string>): GeminiPart {
  const name = (message.tool_call_id ? functionNames.get(message.tool_call_id) : undefined) ?? message.name;
  if (!name) {
    throw errors.badRequest('The tool message answers no earlier tool call (unknown tool_call_id).', {
      param: `messages[${index}].tool_call_id`,
    });
  }
  const text = textOf(message.content);
  let response: Record<string, unknown> = { result: text };
  try {
    const parsed: unknown = JSON.parse(text);
    // Gemini's response field is a Struct; anything else (a string, a number, an array) is wrapped.
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) response = parsed as Record<string, unknown>;
    else response = { result: parsed };
  } catch {
    // Plain text output stays wrapped as {result: text}.
  }
  return { functionResponse: { name, response } };
}

function functionDeclarations(request: ChatCompletionRequest): GeminiFunctionDeclaration[] {
  return functionTools(request.tools).map((tool) => {
    const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
    if (tool.function.description) declaration.description = tool.function.description;
    const parameters = tool.function.parameters;
    // Google rejects an OBJECT schema with empty properties; a function without parameters omits the field.
    const properties = parameters?.properties;
    const empty = !properties || (typeof properties === 'object' && Object.keys(properties).length === 0);
    if (parameters && !empty) declaration.parameters = toGeminiSchema(parameters);
    return declaration;
  });
}

function toolConfigFor(choice: ToolChoice | null | undefined): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [forcedFunctionName(choice)] } };
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function generationConfigFor(request: ChatCompletionRequest, gemini3: boolean): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (isNumber(maxTokens)) config.maxOutputTokens = maxTokens;
  if (isNumber(request.temperature)) config.temperature = request.temperature;
  if (isNumber(request.top_p)) config.topP = request.top_p;
  if (isNumber(request.top_k)) config.topK = request.top_k;
  if (isNumber(request.n)) config.candidateCount = request.n;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = request.stop;
  if (isNumber(request.presence_penalty)) config.presencePenalty = request.presence_penalty;
  if (isNumber(request.frequency_penalty)) config.frequencyPenalty = request.frequency_penalty;
  if (isNumber(request.seed)) config.seed = request.seed;

  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (format.json_schema.schema) config.responseSchema = toGeminiSchema(format.json_schema.schema);
  }

  const thinking = thinkingConfigFor(request.reasoning_effort, gemini3);
  if (thinking) config.thinkingConfig = thinking;
  return config;
}

function thinkingConfigFor(effort: unknown, gemini3: boolean): GeminiThinkingConfig | undefined {
  if (typeof effort !== 'string') return undefined;
  if (gemini3) {
    // Gemini 3 cannot switch thinking off; "none" asks for the least there is.
    const level = effort === 'none' ? 'minimal' : effort;
    return ['minimal', 'low', 'medium', 'high'].includes(level) ? { thinkingLevel: level } : undefined;
  }
  const budget = THINKING_BUDGETS[effort];
  return budget === undefined ? undefined : { thinkingBudget: budget };
}
