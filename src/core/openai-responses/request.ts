/**
 * OpenAI Responses request (what the OpenAI SDK's `responses.create` sends to Tollgate's `POST /v1/responses`) →
 * the canonical OpenAI chat request, so that any provider can answer it. Tollgate keeps no responses, files or
 * conversations: whatever would have to be looked up (a previous response, a stored item, an uploaded file) is a 400
 * asking for the thing itself, and OpenAI's hosted tools, which only OpenAI runs, are refused.
 */
import { errors } from '../../spec/errors.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, FilePart, ImagePart, Tool, ToolCall, ToolChoice } from '../../spec/openai.js';
import {
  inputItemType,
  type ResponsesCustomTool,
  type ResponsesCustomToolCallItem,
  type ResponsesCustomToolCallOutputItem,
  type ResponsesFunctionCallItem,
  type ResponsesFunctionCallOutputItem,
  type ResponsesFunctionTool,
  type ResponsesJsonSchemaFormat,
  type ResponsesMessageItem,
  type ResponsesRequest,
  type ResponsesToolChoiceFunction,
} from '../../spec/schemas/responses-request.js';

type OutputPart = Exclude<ResponsesFunctionCallOutputItem['output'], string>[number];
type ResponsesTool = NonNullable<ResponsesRequest['tools']>[number];

/** The parts' fields as the door checked them; a part's `type` selects which are present. */
interface PartFields {
  type: string;
  text?: string;
  refusal?: string;
  image_url?: string | null;
  file_id?: string | null;
  file_data?: string | null;
  file_url?: string | null;
  filename?: string | null;
  detail?: string | null;
}

/**
 * Translates a Responses create request into an OpenAI chat request. `instructions` becomes the first system
 * message, message items become chat messages, function and custom tool calls the `tool_calls` of an assistant
 * message and their outputs tool messages; function and custom tools, `tool_choice`, `text.format` and the sampling
 * fields take their chat names. `model` is kept as sent; Tollgate's `fallbacks` are the route's to read.
 *
 * @throws GatewayError 400 `unsupported_parameter` for state Tollgate does not keep (`previous_response_id`,
 *   `conversation`, `prompt`, `background`, item references), `unsupported_tool` for OpenAI's hosted tools,
 *   `unsupported_content` for file ids, file URLs and content the chat format cannot carry, and `invalid_request`
 *   when the input holds no message.
 */
export function responsesRequestToChat(body: ResponsesRequest): ChatCompletionRequest {
  refuseStoredState(body);
  const messages: ChatMessage[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  const inputMessages = convertInput(body.input);
  if (inputMessages.length === 0) {
    throw errors.badRequest('input: the request holds no message for the model to answer.', { param: 'input', code: 'invalid_request' });
  }
  messages.push(...inputMessages);

  const request: ChatCompletionRequest = { model: body.model, messages };
  // max_tokens, as the Messages translation writes: every compatible server knows it, the translated providers read
  // either name, and OpenAI's adapter renames it to max_completion_tokens, which its reasoning models demand.
  if (typeof body.max_output_tokens === 'number') request.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (typeof body.parallel_tool_calls === 'boolean') request.parallel_tool_calls = body.parallel_tool_calls;
  if (typeof body.top_logprobs === 'number') {
    // Chat returns top logprobs only alongside the chosen tokens' own.
    request.logprobs = true;
    request.top_logprobs = body.top_logprobs;
  }
  // safety_identifier is the newer name of user, and the chat format has only the one.
  const user = nonEmpty(body.user) ?? nonEmpty(body.safety_identifier);
  if (user !== undefined) request.user = user;
  const effort = body.reasoning?.effort;
  if (typeof effort === 'string') request.reasoning_effort = effort;
  applyTextFormat(body, request);
  applyTools(body, request);
  if (body.stream === true) {
    request.stream = true;
    // The Responses stream always closes with the usage (response.completed), so it is always wanted.
    request.stream_options = { include_usage: true };
  }
  // Not carried: store, metadata, include, truncation, prompt_cache_key, service_tier, max_tool_calls and
  // stream_options. The Response echoes what it must of them; the rest either ask for OpenAI's stored or hosted
  // features (Tollgate stores nothing and runs no tools) or are unknown to chat upstreams, some of which refuse
  // unknown fields. text.verbosity likewise: only OpenAI's chat API knows it.
  return request;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Fields that point at state kept by OpenAI: Tollgate has none to look up, so answering without it would mislead. */
function refuseStoredState(body: ResponsesRequest): void {
  if (typeof body.previous_response_id === 'string') {
    throw errors.badRequest(
      'previous_response_id: Tollgate keeps no responses; send the whole conversation in `input` (earlier output items included).',
      { param: 'previous_response_id', code: 'unsupported_parameter' },
    );
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw errors.badRequest('conversation: Tollgate keeps no conversations; send the whole conversation in `input`.', {
      param: 'conversation',
      code: 'unsupported_parameter',
    });
  }
  if (body.prompt !== undefined && body.prompt !== null) {
    throw errors.badRequest('prompt: Tollgate keeps no prompt templates; send the instructions and input themselves.', {
      param: 'prompt',
      code: 'unsupported_parameter',
    });
  }
  if (body.background === true) {
    throw errors.badRequest('background: Tollgate keeps no responses to fetch later; send the request without background (stream it if it is long).', {
      param: 'background',
      code: 'unsupported_parameter',
    });
  }
}

function convertInput(input: ResponsesRequest['input']): ChatMessage[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const messages: ChatMessage[] = [];
  // The assistant message that function calls join: the one made by the last item, when that item was an
  // assistant message or a function call. Chat puts an assistant turn's text and its calls in one message.
  let openAssistant: ChatMessage | undefined;
  input.forEach((item, index) => {
    const param = `input[${index}]`;
    const type = inputItemType(item);
    switch (type) {
      case 'message': {
        const message = convertMessage(item as ResponsesMessageItem, param);
        openAssistant = message.role === 'assistant' ? message : undefined;
        messages.push(message);
        return;
      }
      case 'function_call':
      case 'custom_tool_call': {
        if (openAssistant === undefined) {
          openAssistant = { role: 'assistant', content: null, tool_calls: [] };
          messages.push(openAssistant);
        }
        (openAssistant.tool_calls ??= []).push(toolCallOf(item as ResponsesFunctionCallItem | ResponsesCustomToolCallItem));
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const output = item as ResponsesFunctionCallOutputItem | ResponsesCustomToolCallOutputItem;
        messages.push({ role: 'tool', tool_call_id: output.call_id, content: functionOutputText(output.output, `${param}.output`) });
        openAssistant = undefined;
        return;
      }
      case 'reasoning':
        // Dropped: only OpenAI can read a reasoning item's encrypted_content, and the chat format has no field that
        // takes earlier reasoning back. Nor does it part an assistant turn: OpenAI puts reasoning items between a
        // turn's message and the calls that follow it.
        return;
      case 'item_reference':
        throw errors.badRequest(`${param}: Tollgate does not keep responses; send the item itself.`, { param, code: 'unsupported_parameter' });
      default:
        throw errors.badRequest(
          `${param}: items of type "${type}" have no chat form; Tollgate answers with function and custom tools only, so send messages, tool calls and their outputs.`,
          { param, code: 'unsupported_content' },
        );
    }
  });
  return messages;
}

/** A function or custom tool call of the history as the chat tool call it was. */
function toolCallOf(call: ResponsesFunctionCallItem | ResponsesCustomToolCallItem): ToolCall {
  if (call.type === 'custom_tool_call') return { id: call.call_id, type: 'custom', custom: { name: call.name, input: call.input } };
  return { id: call.call_id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

function convertMessage(item: ResponsesMessageItem, param: string): ChatMessage {
  switch (item.role) {
    case 'system':
    case 'developer':
      // Chat's developer role is OpenAI's alone; system is what every provider reads as instructions.
      return { role: 'system', content: textOnly(item.content, param, 'system and developer messages') };
    case 'assistant':
      return assistantMessage(item.content, param);
    case 'user':
      return userMessage(item.content, param);
  }
}

/** The parts as the door checked them (see PartFields); a string is one text part. */
function partsOf(content: string | readonly object[]): PartFields[] {
  return typeof content === 'string' ? [{ type: 'input_text', text: content }] : (content as readonly object[] as PartFields[]);
}

/** The text of content that may hold text only, joined as the Messages translation joins text blocks. */
function textOnly(content: ResponsesMessageItem['content'], param: string, holder: string): string {
  if (typeof content === 'string') return content;
  return partsOf(content)
    .map((part, index) => {
      if (part.type === 'input_text' || part.type === 'output_text') return part.text ?? '';
      throw unsupportedPart(part, `${param}.content[${index}]`, holder);
    })
    .join('\n\n');
}

function assistantMessage(content: ResponsesMessageItem['content'], param: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const refusals: string[] = [];
  partsOf(content).forEach((part, index) => {
    // Easy input messages may carry an assistant turn's text as input_text.
    if (part.type === 'output_text' || part.type === 'input_text') texts.push(part.text ?? '');
    else if (part.type === 'refusal') refusals.push(part.refusal ?? '');
    else throw unsupportedPart(part, `${param}.content[${index}]`, 'assistant messages');
  });
  // The output_text parts of one message are pieces of one answer, so they join with nothing between them.
  const message: ChatMessage = { role: 'assistant', content: texts.length === 0 ? null : texts.join('') };
  if (refusals.length > 0) message.refusal = refusals.join('');
  return message;
}

function userMessage(content: ResponsesMessageItem['content'], param: string): ChatMessage {
  if (typeof content === 'string') return { role: 'user', content };
  const parts = partsOf(content).map((part, index) => userPart(part, `${param}.content[${index}]`));
  // Plain text is the form every upstream accepts; parts only when there is more than text.
  const textOnlyParts = parts.every((part) => part.type === 'text');
  return { role: 'user', content: textOnlyParts ? parts.map((part) => (part.type === 'text' ? part.text : '')).join('\n\n') : parts };
}

function userPart(part: PartFields, param: string): ContentPart {
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: part.text ?? '' };
    case 'input_image':
      return imagePart(part, param);
    case 'input_file':
      return filePart(part, param);
    default:
      throw unsupportedPart(part, param, 'user messages');
  }
}

const chatImageDetails = new Set(['auto', 'low', 'high']);

function imagePart(part: PartFields, param: string): ImagePart {
  if (typeof part.image_url !== 'string' || part.image_url === '') {
    throw errors.badRequest(
      typeof part.file_id === 'string'
        ? `${param}: Tollgate keeps no files, so images cannot be given by file_id; send image_url (a URL or a data: URL).`
        : `${param}: an input_image needs an image_url.`,
      { param, code: typeof part.file_id === 'string' ? 'unsupported_content' : 'invalid_request' },
    );
  }
  const image: ImagePart['image_url'] = { url: part.image_url };
  const detail = part.detail === 'original' ? 'high' : part.detail;
  // "original" (no downscaling) has no chat equivalent; high is the closest, the most detail chat can ask for.
  if (typeof detail === 'string' && chatImageDetails.has(detail)) image.detail = detail as 'auto' | 'low' | 'high';
  return { type: 'image_url', image_url: image };
}

function filePart(part: PartFields, param: string): FilePart {
  if (typeof part.file_data === 'string' && part.file_data !== '') {
    // Passed as given: the chat path reads a data: URL, or bare base64 with its filename, as OpenAI does.
    const file: FilePart['file'] = { file_data: part.file_data };
    if (typeof part.filename === 'string' && part.filename !== '') file.filename = part.filename;
    return { type: 'file', file };
  }
  if (typeof part.file_id === 'string') {
    throw errors.badRequest(`${param}: Tollgate keeps no files, so files cannot be given by file_id; send file_data (a data: URL) and filename.`, {
      param,
      code: 'unsupported_content',
    });
  }
  if (typeof part.file_url === 'string') {
    throw errors.badRequest(`${param}: Tollgate does not fetch files; send file_data (a data: URL) and filename instead of file_url.`, {
      param,
      code: 'unsupported_content',
    });
  }
  throw errors.badRequest(`${param}: an input_file needs file_data.`, { param, code: 'invalid_request' });
}

/** Chat tool messages carry text only, so a function's output may hold only text. */
function functionOutputText(output: string | OutputPart[], param: string): string {
  if (typeof output === 'string') return output;
  return partsOf(output)
    .map((part, index) => {
      if (part.type === 'input_text') return part.text ?? '';
      throw unsupportedPart(part, `${param}[${index}]`, 'function call outputs');
    })
    .join('\n\n');
}

function unsupportedPart(part: PartFields, param: string, holder: string) {
  return errors.badRequest(`${param}: ${holder} cannot carry ${part.type} parts through Tollgate.`, { param, code: 'unsupported_content' });
}

function applyTextFormat(body: ResponsesRequest, request: ChatCompletionRequest): void {
  const format = body.text?.format;
  if (format === undefined || format === null) return;
  if (format.type === 'json_object') request.response_format = { type: 'json_object' };
  else if (format.type === 'json_schema') {
    // The door held a json_schema format to jsonSchemaFormatSchema.
    const given = format as unknown as ResponsesJsonSchemaFormat;
    const jsonSchema: { name: string; schema: Record<string, unknown>; strict?: boolean; description?: string } = { name: given.name, schema: given.schema };
    if (typeof given.strict === 'boolean') jsonSchema.strict = given.strict;
    if (typeof given.description === 'string') jsonSchema.description = given.description;
    request.response_format = { type: 'json_schema', json_schema: jsonSchema };
  }
  // `text` is the default of both APIs: nothing to ask for.
}

function applyTools(body: ResponsesRequest, request: ChatCompletionRequest): void {
  const tools = body.tools ?? [];
  if (tools.length > 0) request.tools = tools.map((tool, index) => chatTool(tool, `tools[${index}]`));
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return;
  request.tool_choice = toolChoice(choice);
}

function chatTool(tool: ResponsesTool, param: string): Tool {
  if (tool.type === 'custom') {
    // The door held a custom tool to customToolSchema. Chat takes it as it is; only OpenAI's models can call one.
    const fields = tool as unknown as ResponsesCustomTool;
    const definition: Extract<Tool, { type: 'custom' }>['custom'] = { name: fields.name };
    if (typeof fields.description === 'string') definition.description = fields.description;
    if (fields.format !== undefined && fields.format !== null) definition.format = fields.format;
    return { type: 'custom', custom: definition };
  }
  if (tool.type !== 'function') {
    throw errors.badRequest(`${param}: ${tool.type} tools are run by OpenAI itself and are not supported by this gateway; use function or custom tools.`, {
      param,
      code: 'unsupported_tool',
    });
  }
  // The door held a function tool to functionToolSchema.
  const fields = tool as unknown as ResponsesFunctionTool;
  const definition: Extract<Tool, { type: 'function' }>['function'] = { name: fields.name };
  if (typeof fields.description === 'string') definition.description = fields.description;
  if (fields.parameters !== undefined && fields.parameters !== null) definition.parameters = fields.parameters;
  // Only an explicit strict is carried. Responses makes an unmarked function strict by rewriting its schema to
  // strict form; chat would instead refuse a schema not already in that form, so unmarked stays non-strict.
  if (typeof fields.strict === 'boolean') definition.strict = fields.strict;
  return { type: 'function', function: definition };
}

function toolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>): ToolChoice {
  if (typeof choice === 'string') return choice;
  // The door held a function choice to toolChoiceFunctionSchema.
  if (choice.type === 'function') return { type: 'function', function: { name: (choice as unknown as ResponsesToolChoiceFunction).name } };
  if (choice.type === 'custom') return { type: 'custom', custom: { name: (choice as unknown as ResponsesToolChoiceFunction).name } };
  throw errors.badRequest(`tool_choice: only "none", "auto", "required", a function or a custom tool can be chosen through this gateway, not type "${choice.type}".`, {
    param: 'tool_choice',
    code: 'unsupported_tool',
  });
}

/**
 * A bound of the input tokens in what the translation leaves out of the chat request but a request sent to OpenAI
 * as written carries: earlier reasoning items (their summaries and encrypted content, which only OpenAI reads). The
 * bound is their JSON's length in bytes, as the chat request's own bound counts text: no token is shorter than a
 * byte.
 */
export function untranslatedInputTokens(body: ResponsesRequest): number {
  if (!Array.isArray(body.input)) return 0;
  let bytes = 0;
  for (const item of body.input) {
    if (item.type === 'reasoning') bytes += Buffer.byteLength(JSON.stringify(item), 'utf8');
  }
  return bytes;
}
