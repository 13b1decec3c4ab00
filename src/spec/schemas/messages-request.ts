import { z } from 'zod';
import { fallbacksSchema } from './fallbacks.js';
import { modelName } from './model-name.js';
import { typedBlock } from './typed-block.js';

const textBlock = z.looseObject({ text: z.string() });

const mediaSource = typedBlock(
  new Map<string, z.ZodType>([
    ['base64', z.looseObject({ media_type: z.string(), data: z.string() })],
    ['url', z.looseObject({ url: z.string() })],
    ['text', z.looseObject({ data: z.string() })],
    ['file', z.looseObject({ file_id: z.string() })],
    ['content', z.looseObject({ content: z.union([z.string(), z.array(z.looseObject({ type: z.literal('text'), text: z.string() }))]) })],
  ]),
);

const imageBlock = z.looseObject({ source: mediaSource });
const documentBlock = z.looseObject({ source: mediaSource, title: z.string().nullable().optional() });

const toolResultContent = typedBlock(
  new Map<string, z.ZodType>([
    ['text', textBlock],
    ['image', imageBlock],
    ['document', documentBlock],
  ]),
);

const contentBlock = typedBlock(
  new Map<string, z.ZodType>([
    ['text', textBlock],
    ['image', imageBlock],
    ['document', documentBlock],
    ['tool_use', z.looseObject({ id: z.string(), name: z.string() })],
    ['tool_result', z.looseObject({ tool_use_id: z.string(), content: z.union([z.string(), z.array(toolResultContent)]).optional(), is_error: z.boolean().optional() })],
    ['thinking', z.looseObject({ thinking: z.string(), signature: z.string().optional() })],
    ['redacted_thinking', z.looseObject({ data: z.string() })],
  ]),
);

const tool = z.looseObject({
  type: z.string().optional(),
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().optional(),
});

/**
 * The Anthropic Messages request as validated at the door: every field the translation to the canonical chat
 * request reads, with the types Anthropic's API demands of them; other fields pass through.
 */
export const messagesRequestSchema = z.looseObject({
  model: modelName,
  max_tokens: z.number().int().positive(),
  // Newer Anthropic SDKs may send a system turn inside messages; the converter hoists it.
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant', 'system']), content: z.union([z.string(), z.array(contentBlock)]) })).min(1),
  system: z.union([z.string(), z.array(typedBlock(new Map<string, z.ZodType>([['text', textBlock]])))]).nullable().optional(),
  stream: z.boolean().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().optional(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: typedBlock(new Map<string, z.ZodType>([['tool', z.looseObject({ name: z.string() })]])).optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
  output_config: z
    .looseObject({ format: z.looseObject({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).nullable().optional() })
    .optional(),
  fallbacks: fallbacksSchema.optional(),
});

/**
 * The body of `POST /v1/messages/count_tokens`: a Messages request without `max_tokens` (and without Tollgate's
 * `fallbacks`: a count asks one model). Other fields pass through to a provider's own counter.
 */
export const countTokensRequestSchema = messagesRequestSchema.omit({ max_tokens: true, stream: true, fallbacks: true });
