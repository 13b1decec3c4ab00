import { z } from 'zod';
import { fallbacksSchema } from './fallbacks.js';
import { modelName } from './model-name.js';
import { typedBlock } from './typed-block.js';

const inputText = z.looseObject({ text: z.string() });
const inputImage = z.looseObject({
  image_url: z.string().nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: z.string().nullable().optional(),
});
const inputFile = z.looseObject({
  file_data: z.string().nullable().optional(),
  file_id: z.string().nullable().optional(),
  file_url: z.string().nullable().optional(),
  filename: z.string().nullable().optional(),
});

/** A part of a message item's content. Assistant history carries output_text and refusal parts. */
const messageContentPart = typedBlock(
  new Map<string, z.ZodType>([
    ['input_text', inputText],
    ['input_image', inputImage],
    ['input_file', inputFile],
    ['output_text', z.looseObject({ text: z.string(), annotations: z.array(z.unknown()).optional() })],
    ['refusal', z.looseObject({ refusal: z.string() })],
  ]),
);

const functionCallOutputPart = typedBlock(
  new Map<string, z.ZodType>([
    ['input_text', inputText],
    ['input_image', inputImage],
    ['input_file', inputFile],
  ]),
);

/** A message item: in the API `type` may be left out (an "easy input message"). */
export const messageItemSchema = z.looseObject({
  type: z.literal('message').nullable().optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(messageContentPart)]),
});

export const functionCallItemSchema = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  id: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
});

export const functionCallOutputItemSchema = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(functionCallOutputPart)]),
});

export const customToolCallItemSchema = z.looseObject({
  type: z.literal('custom_tool_call'),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  id: z.string().nullable().optional(),
});

export const customToolCallOutputItemSchema = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(functionCallOutputPart)]),
});

const reasoningItem = z.looseObject({
  id: z.string().nullable().optional(),
  summary: z.array(z.looseObject({ text: z.string() })),
  content: z.array(z.looseObject({ text: z.string() })).nullable().optional(),
  encrypted_content: z.string().nullable().optional(),
});

/** In the API an item reference may leave out its `type` too. */
const itemReference = z.looseObject({ type: z.literal('item_reference').nullable().optional(), id: z.string() });

export type ResponsesMessageItem = z.infer<typeof messageItemSchema>;
export type ResponsesFunctionCallItem = z.infer<typeof functionCallItemSchema>;
export type ResponsesFunctionCallOutputItem = z.infer<typeof functionCallOutputItemSchema>;
export type ResponsesCustomToolCallItem = z.infer<typeof customToolCallItemSchema>;
export type ResponsesCustomToolCallOutputItem = z.infer<typeof customToolCallOutputItemSchema>;

/**
 * The kind of an input item: its `type`, or for an item without one, `message` when it has a `role` (or neither
 * a role nor an id, so that a 400 names the missing role) and `item_reference` otherwise, as OpenAI reads them.
 */
export function inputItemType(item: Readonly<Record<string, unknown>>): string {
  if (typeof item.type === 'string') return item.type;
  return item.role === undefined && item.id !== undefined ? 'item_reference' : 'message';
}

const inputItemSchemas = new Map<string, z.ZodType>([
  ['message', messageItemSchema],
  ['function_call', functionCallItemSchema],
  ['function_call_output', functionCallOutputItemSchema],
  ['custom_tool_call', customToolCallItemSchema],
  ['custom_tool_call_output', customToolCallOutputItemSchema],
  ['reasoning', reasoningItem],
  ['item_reference', itemReference],
]);

/**
 * An input item, held to its kind's schema like a typedBlock; unlike one, `type` may be absent (see
 * inputItemType). Items of other kinds pass the door; the translation names them in its own 400.
 */
const inputItem = z.looseObject({ type: z.string().nullable().optional() }).superRefine((item, context) => {
  const schema = inputItemSchemas.get(inputItemType(item));
  if (schema === undefined) return;
  const result = schema.safeParse(item);
  if (result.success) return;
  for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: item });
});

export const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

export const customToolSchema = z.looseObject({
  type: z.literal('custom'),
  name: z.string(),
  description: z.string().nullable().optional(),
  format: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Function and custom tools are held to their schemas; other kinds (OpenAI's hosted tools) pass, for the translation to refuse. */
const tool = typedBlock(
  new Map<string, z.ZodType>([
    ['function', functionToolSchema],
    ['custom', customToolSchema],
  ]),
);

export const toolChoiceFunctionSchema = z.looseObject({ type: z.literal('function'), name: z.string() });
export const toolChoiceCustomSchema = z.looseObject({ type: z.literal('custom'), name: z.string() });

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  typedBlock(
    new Map<string, z.ZodType>([
      ['function', toolChoiceFunctionSchema],
      ['custom', toolChoiceCustomSchema],
    ]),
  ),
]);

export const jsonSchemaFormatSchema = z.looseObject({
  type: z.literal('json_schema'),
  name: z.string(),
  schema: z.record(z.string(), z.unknown()),
  strict: z.boolean().nullable().optional(),
  description: z.string().nullable().optional(),
});

const textFormat = typedBlock(new Map<string, z.ZodType>([['json_schema', jsonSchemaFormatSchema]]), {
  type: z.enum(['text', 'json_object', 'json_schema']),
});

export type ResponsesFunctionTool = z.infer<typeof functionToolSchema>;
export type ResponsesCustomTool = z.infer<typeof customToolSchema>;
export type ResponsesToolChoiceFunction = z.infer<typeof toolChoiceFunctionSchema>;
export type ResponsesJsonSchemaFormat = z.infer<typeof jsonSchemaFormatSchema>;

/**
 * The OpenAI Responses create request (`POST /v1/responses`) as validated at the door: every field the
 * translation to the canonical chat request reads, with the types OpenAI's API demands of them, and the types of
 * the fields it refuses or leaves out; other fields pass through.
 */
export const responsesRequestSchema = z.looseObject({
  model: modelName,
  input: z.union([z.string(), z.array(inputItem)]).optional(),
  instructions: z.string().nullable().optional(),
  tools: z.array(tool).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z
    .looseObject({ format: textFormat.nullable().optional(), verbosity: z.string().nullable().optional() })
    .nullable()
    .optional(),
  reasoning: z
    .looseObject({
      effort: z.string().nullable().optional(),
      summary: z.string().nullable().optional(),
      generate_summary: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  user: z.string().nullable().optional(),
  safety_identifier: z.string().nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_obfuscation: z.boolean().optional() }).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z.union([z.string(), z.looseObject({ id: z.string() })]).nullable().optional(),
  prompt: z.looseObject({ id: z.string() }).nullable().optional(),
  include: z.array(z.string()).nullable().optional(),
  truncation: z.string().nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  background: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).nullable().optional(),
  max_tool_calls: z.number().int().positive().nullable().optional(),
  fallbacks: fallbacksSchema.optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
