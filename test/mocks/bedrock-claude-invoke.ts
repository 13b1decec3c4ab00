/**
 * Anthropic's Claude behind Bedrock's InvokeModel and InvokeModelWithResponseStream, for the Bedrock mock: the
 * checks Bedrock makes of a Claude body (its JSON schema, whose violations read `Malformed input request: #: …`,
 * then Anthropic's own checks), the Message it answers, and the Anthropic stream events it wraps in `chunk`
 * frames. Nothing here touches HTTP: `bedrock-mock.ts` validates, answers and frames with these.
 *
 * Answers are deterministic but for their ids: the last user text is echoed; with `tools` and `tool_choice` `any`
 * or `tool`, a `tool_use` block calls that tool (or the first) with `{"input": <last user text>}`; `thinking`
 * `enabled` adds a first `thinking` block; `max_tokens` cuts the echo. Token counts are ceil(characters / 4).
 */
import { createHash, randomInt } from 'node:crypto';
import { blocksOf, blockText, isRecord } from './anthropic-mock.js';

type Json = Record<string, unknown>;

/** The only `anthropic_version` Bedrock accepts in a Claude body. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The top-level members a Claude body on Bedrock may hold (no `model`, no `stream`: the path and operation say those). */
export const CLAUDE_INVOKE_KEYS: readonly string[] = [
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'output_config',
  'context_management',
  'cache_control',
];

/** What Bedrock adds to the JSON of the last event (`message_stop`) of a Claude stream. */
export interface BedrockInvocationMetrics {
  inputTokenCount: number;
  outputTokenCount: number;
  invocationLatency: number;
  firstByteLatency: number;
}

/** The latencies the mock reports, in milliseconds. */
export const MOCK_INVOCATION_LATENCY = 120;
export const MOCK_FIRST_BYTE_LATENCY = 40;

/** The Anthropic Message a non-streamed Claude invocation answers. */
export interface ClaudeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Json[];
  stop_reason: string;
  stop_sequence: null;
  usage: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number };
}

/** Whether InvokeModel for this model id takes an Anthropic Messages body (foundation model, profile or ARN). */
export function isClaudeModel(modelId: string): boolean {
  return modelId.includes('anthropic.claude');
}

/**
 * The model name Bedrock puts in Claude's Message: the foundation model after any ARN resource prefix and
 * inference-profile prefix, without `anthropic.` and the version suffix
 * (`us.anthropic.claude-3-5-haiku-20241022-v1:0` → `claude-3-5-haiku-20241022`).
 */
export function claudeModelName(modelId: string): string {
  const resource = modelId.slice(modelId.lastIndexOf('/') + 1);
  const name = resource.slice(resource.indexOf('anthropic.') + 'anthropic.'.length);
  return name.replace(/-v\d+:\d+$/, '');
}

/** The mock's token count for a text: a token per four characters, rounded up. */
export function claudeTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * The input tokens the mock reports for a Claude body: ceil(characters / 4) over all the text of `system` and
 * `messages` together (text blocks, tool results' text, tool calls' input JSON; not tool definitions).
 */
export function claudeInputTokens(body: Json): number {
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const texts = [...blocksOf(body.system), ...messages.flatMap((message) => blocksOf(isRecord(message) ? message.content : undefined))];
  return claudeTokenCount(texts.map(blockText).join(''));
}

// --- Validation ---------------------------------------------------------------------------------------

/** The JSON type names Bedrock's schema validator reports (`expected type: Integer, found: String`). */
function typeName(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'JSONArray';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'BigDecimal';
  return 'JSONObject';
}

/** The schema violations of a Claude body, each `#<pointer>: <what>` as Bedrock words them. */
function schemaViolations(body: Json): string[] {
  const violations: string[] = [];
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
    if (!(key in body)) violations.push(`#: required key [${key}] not found`);
  }
  for (const key of Object.keys(body)) {
    if (!CLAUDE_INVOKE_KEYS.includes(key)) violations.push(`#: extraneous key [${key}] is not permitted`);
  }
  const version = body.anthropic_version;
  if (version !== undefined && typeof version !== 'string') violations.push(`#/anthropic_version: expected type: String, found: ${typeName(version)}`);
  else if (version !== undefined && version !== BEDROCK_ANTHROPIC_VERSION) violations.push(`#/anthropic_version: ${version} is not a valid enum value`);
  const maxTokens = body.max_tokens;
  if (maxTokens !== undefined && typeName(maxTokens) !== 'Integer') violations.push(`#/max_tokens: expected type: Integer, found: ${typeName(maxTokens)}`);
  else if (typeof maxTokens === 'number' && maxTokens < 1) violations.push(`#/max_tokens: ${maxTokens} is not greater or equal to 1`);
  const beta = body.anthropic_beta;
  if (beta !== undefined && !Array.isArray(beta)) violations.push(`#/anthropic_beta: expected type: JSONArray, found: ${typeName(beta)}`);
  if (Array.isArray(beta)) {
    beta.forEach((item, index) => {
      if (typeof item !== 'string') violations.push(`#/anthropic_beta/${index}: expected type: String, found: ${typeName(item)}`);
    });
  }
  const messages = body.messages;
  if (messages !== undefined && !Array.isArray(messages)) violations.push(`#/messages: expected type: JSONArray, found: ${typeName(messages)}`);
  if (Array.isArray(messages)) {
    if (messages.length === 0) violations.push('#/messages: expected minimum item count: 1, found: 0');
    messages.forEach((message, index) => violations.push(...messageViolations(message, `#/messages/${index}`)));
  }
  return violations;
}

function messageViolations(message: unknown, pointer: string): string[] {
  if (!isRecord(message)) return [`${pointer}: expected type: JSONObject, found: ${typeName(message)}`];
  const violations: string[] = [];
  if (!('role' in message)) violations.push(`${pointer}: required key [role] not found`);
  else if (message.role !== 'user' && message.role !== 'assistant') violations.push(`${pointer}/role: ${String(message.role)} is not a valid enum value`);
  const content = message.content;
  if (!('content' in message)) violations.push(`${pointer}: required key [content] not found`);
  else if (typeof content !== 'string' && !Array.isArray(content)) {
    violations.push(`${pointer}/content: expected type: String or JSONArray, found: ${typeName(content)}`);
  } else if (Array.isArray(content)) {
    content.forEach((block, index) => {
      if (!isRecord(block)) violations.push(`${pointer}/content/${index}: expected type: JSONObject, found: ${typeName(block)}`);
      else if (typeof block.type !== 'string') violations.push(`${pointer}/content/${index}: required key [type] not found`);
    });
  }
  return violations;
}

/**
 * The message of the ValidationException Bedrock answers this Claude body with, if any: schema violations first
 * (all of them, run together as Bedrock does), then Anthropic's own checks of a well-formed body.
 */
export function claudeInvokeProblem(body: Json): string | undefined {
  const violations = schemaViolations(body);
  if (violations.length > 0) return `Malformed input request: ${violations.join('')}, please reformat your input and try again.`;
  const messages = body.messages as Json[];
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  return undefined;
}

// --- Replies ------------------------------------------------------------------------------------------

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Bedrock-style id: the prefix, then `01` and 22 random alphanumerics (24 characters), like `msg_bdrk_01…`. */
function bedrockId(prefix: string): string {
  return `${prefix}01${Array.from({ length: 22 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('')}`;
}

/** The text the mock echoes: the last user message's text (its text blocks and tool results' text, joined). */
function lastUserText(body: Json): string {
  const messages = (body.messages as Json[]).filter((message) => message.role === 'user');
  return blocksOf(messages.at(-1)?.content).map(blockText).join('');
}

/**
 * The Message Bedrock's Claude answers a valid body with. Output tokens count the reply's text, the thinking text
 * and a tool call's input JSON together.
 */
export function claudeInvokeReply(modelId: string, body: Json): ClaudeMessage {
  const userText = lastUserText(body);
  const content: Json[] = [];
  const produced: string[] = [];
  let stopReason = 'end_turn';
  const thinking = isRecord(body.thinking) ? body.thinking : {};
  if (thinking.type === 'enabled') {
    const thought = `Thinking about: ${userText}`;
    content.push({ type: 'thinking', thinking: thought, signature: createHash('sha512').update(thought).digest('base64') });
    produced.push(thought);
  }
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = isRecord(body.tool_choice) ? body.tool_choice : {};
  if (tools.length > 0 && (choice.type === 'any' || choice.type === 'tool')) {
    const name = choice.type === 'tool' ? String(choice.name) : String(tools[0]?.name ?? 'tool');
    const input = { input: userText };
    content.push({ type: 'tool_use', id: bedrockId('toolu_bdrk_'), name, input });
    produced.push(JSON.stringify(input));
    stopReason = 'tool_use';
  } else {
    let text = userText;
    const limit = body.max_tokens as number;
    if (claudeTokenCount(text) > limit) {
      text = text.slice(0, limit * 4);
      stopReason = 'max_tokens';
    }
    content.push({ type: 'text', text });
    produced.push(text);
  }
  return {
    id: bedrockId('msg_bdrk_'),
    type: 'message',
    role: 'assistant',
    model: claudeModelName(modelId),
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: claudeInputTokens(body),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: claudeTokenCount(produced.join('')),
    },
  };
}

/** Splits text into words, each with its trailing whitespace (the text deltas of a stream). */
function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * The Anthropic stream events of a Message, as Bedrock sends them (no `ping`): message_start (empty content,
 * output_tokens 1), each block's start / deltas / stop, message_delta, and message_stop carrying
 * `amazon-bedrock-invocationMetrics`.
 */
export function claudeStreamEvents(message: ClaudeMessage): Json[] {
  const events: Json[] = [];
  const { usage } = message;
  events.push({ type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  message.content.forEach((block, index) => {
    const delta = (payload: Json): void => {
      events.push({ type: 'content_block_delta', index, delta: payload });
    };
    if (block.type === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const word of words(String(block.thinking))) delta({ type: 'thinking_delta', thinking: word });
      delta({ type: 'signature_delta', signature: block.signature });
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      const json = JSON.stringify(block.input);
      const third = Math.ceil(json.length / 3);
      delta({ type: 'input_json_delta', partial_json: '' });
      for (let start = 0; start < json.length; start += third) delta({ type: 'input_json_delta', partial_json: json.slice(start, start + third) });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const word of words(String(block.text))) delta({ type: 'text_delta', text: word });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  const metrics: BedrockInvocationMetrics = {
    inputTokenCount: usage.input_tokens,
    outputTokenCount: usage.output_tokens,
    invocationLatency: MOCK_INVOCATION_LATENCY,
    firstByteLatency: MOCK_FIRST_BYTE_LATENCY,
  };
  events.push({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics });
  return events;
}

/** The payload of the `chunk` frame wrapping one Anthropic event: its UTF-8 JSON, base64-encoded, as `bytes`. */
export function claudeChunkPayload(event: Json): { bytes: string } {
  return { bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64') };
}
