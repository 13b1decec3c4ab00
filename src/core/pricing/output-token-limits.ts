/**
 * The most output tokens a model can produce in one choice, used when a request sets no output cap.
 *
 * `@pydantic/genai-prices` has context windows but no output limits, so OpenAI's models are read from the
 * model data bundled with `gpt-tokenizer` (maintained with OpenAI's model pages). Other families use the
 * documented limits below. Every value must be at least the real limit, since it is the worst case a
 * USD-limited key reserves; when in doubt a family gets the larger figure.
 */
import * as openAIModelData from 'gpt-tokenizer/models';

/**
 * For models no rule knows: at least the output limit of every current model we know of (GPT-5's 128,000,
 * Claude's 128,000 with the extended-output header, Gemini's 65,536), though below some self-hosted models'
 * whole context. Clients that care about reservations set `max_tokens`.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 131_072;

interface FamilyLimit {
  pattern: RegExp;
  maxOutputTokens: number;
  /** Adapter types the rule is limited to, when the limit is the provider's rather than the model's. */
  providers?: readonly string[];
}

/**
 * Documented per-family limits, first match wins, matched against the lowercase model name anywhere in it so that
 * provider spellings (`anthropic.claude-...-v1:0`, `claude-...@date`, `anthropic/claude-3.5-...`) all match.
 */
const FAMILY_LIMITS: readonly FamilyLimit[] = [
  // Anthropic.
  { pattern: /claude-(?:instant|v1|v2|2)/, maxOutputTokens: 4_096 },
  { pattern: /claude-3-(?:haiku|opus|sonnet)/, maxOutputTokens: 4_096 },
  { pattern: /claude-3[.-]5/, maxOutputTokens: 8_192 },
  // 64,000 by default, 128,000 with the `output-128k-2025-02-19` beta header, which clients may send.
  { pattern: /claude-3[.-]7/, maxOutputTokens: 128_000 },
  { pattern: /claude-(?:opus-4|4-opus)(?:[.-][01](?!\d)|-20\d{6}|@|-v\d|:|$)/, maxOutputTokens: 32_000 },
  { pattern: /claude-(?:sonnet-4|4-sonnet)(?:[.-][05](?!\d)|-20\d{6}|@|-v\d|:|$)/, maxOutputTokens: 64_000 },
  { pattern: /claude-(?:haiku|opus)-4[.-]5/, maxOutputTokens: 64_000 },
  { pattern: /claude/, maxOutputTokens: 128_000 },
  // Google.
  { pattern: /gemini-1[.-]/, maxOutputTokens: 8_192 },
  { pattern: /gemini-2[.-]0-flash-thinking/, maxOutputTokens: 65_536 },
  { pattern: /gemini-2[.-]0/, maxOutputTokens: 8_192 },
  { pattern: /gemini/, maxOutputTokens: 65_536 },
  // OpenAI names missing from gpt-tokenizer's data (Azure spellings, newer dated snapshots).
  { pattern: /gpt-35|gpt-3[.-]5/, maxOutputTokens: 4_096 },
  { pattern: /gpt-4o/, maxOutputTokens: 16_384 },
  { pattern: /gpt-4[.-]1/, maxOutputTokens: 32_768 },
  { pattern: /gpt-oss/, maxOutputTokens: 131_072 },
  { pattern: /gpt-5.*-pro/, maxOutputTokens: 272_000 },
  { pattern: /gpt-5/, maxOutputTokens: 128_000 },
  { pattern: /(?:^|[/.])o[1-9](?:-|$)/, maxOutputTokens: 100_000 },
  // DeepSeek's own API caps below the models' context; other hosts of the same weights do not.
  { pattern: /deepseek-chat/, maxOutputTokens: 8_192, providers: ['deepseek'] },
  { pattern: /deepseek-reasoner/, maxOutputTokens: 65_536, providers: ['deepseek'] },
  // Cohere (Command R/R+ 4,000, Command A 8,000, Command A Reasoning 32,000).
  { pattern: /command-a-reasoning/, maxOutputTokens: 32_768 },
  { pattern: /(?:^|[/.])(?:c4ai-)?command(?:-|$)/, maxOutputTokens: 8_192 },
];

const openAIModels = openAIModelData as unknown as Readonly<Record<string, { max_output_tokens?: unknown } | undefined>>;

/** OpenAI's documented output limit for the model, when gpt-tokenizer's data has it. */
export function openAIMaximumOutputTokens(model: string): number | undefined {
  const name = model.toLowerCase();
  const withoutVendor = name.slice(name.lastIndexOf('/') + 1);
  const withoutDate = withoutVendor.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  for (const candidate of [name, withoutVendor, withoutDate]) {
    // Own properties only: the namespace object must not answer for names like `constructor`.
    if (!Object.prototype.hasOwnProperty.call(openAIModels, candidate)) continue;
    const limit = openAIModels[candidate]?.max_output_tokens;
    if (typeof limit === 'number' && limit > 0) return limit;
  }
  return undefined;
}

/** The model's output limit from the data or the family rules, or undefined when nothing knows the model. */
export function modelMaximumOutputTokens(provider: string, model: string): number | undefined {
  const fromData = openAIMaximumOutputTokens(model);
  if (fromData !== undefined) return fromData;
  const name = model.toLowerCase();
  for (const rule of FAMILY_LIMITS) {
    if (rule.providers !== undefined && !rule.providers.includes(provider)) continue;
    if (rule.pattern.test(name)) return rule.maxOutputTokens;
  }
  return undefined;
}
