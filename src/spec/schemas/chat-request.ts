import { z } from 'zod';
import { fallbacksSchema } from './fallbacks.js';
import { modelName } from './model-name.js';
import { typedBlock } from './typed-block.js';

const roles = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const contentPart = typedBlock(
  new Map<string, z.ZodType>([
    ['text', z.looseObject({ text: z.string() })],
    ['image_url', z.looseObject({ image_url: z.looseObject({ url: z.string() }) })],
    ['input_audio', z.looseObject({ input_audio: z.looseObject({ data: z.string(), format: z.string() }) })],
    ['file', z.looseObject({ file: z.looseObject({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }) })],
  ]),
);

/** Every call has an id; a function call (the one kind other providers' formats can carry) has its function. */
const toolCall = typedBlock(new Map<string, z.ZodType>([['function', z.looseObject({ function: z.looseObject({ name: z.string(), arguments: z.string() }) })]]), {
  id: z.string(),
});

const chatMessage = z.looseObject({
  role: z.enum(roles),
  content: z.union([z.string(), z.array(contentPart)]).nullable().optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).nullable().optional(),
  tool_call_id: z.string().optional(),
});

const tool = typedBlock(
  new Map<string, z.ZodType>([
    [
      'function',
      z.looseObject({
        function: z.looseObject({ name: z.string(), description: z.string().nullable().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
      }),
    ],
  ]),
);

const toolChoice = z.union([z.string(), typedBlock(new Map<string, z.ZodType>([['function', z.looseObject({ function: z.looseObject({ name: z.string() }) })]]))]);

/**
 * The OpenAI chat request as validated at the door: the fields Tollgate reads, meters or translates for other
 * providers, with the types OpenAI itself demands of them; every other field passes through to the upstream.
 */
export const chatRequestSchema = z.looseObject({
  model: modelName,
  messages: z.array(chatMessage).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  n: z.number().int().positive().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  tools: z.array(tool).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  response_format: z.looseObject({ type: z.string() }).nullable().optional(),
  fallbacks: fallbacksSchema.optional(),
});
