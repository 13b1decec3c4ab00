/**
 * Reading non-streamed chat completions from OpenAI-compatible servers. Most replies are already what the
 * client should get; the few normalisations (null choices, non-standard finish reasons) are tracked so the
 * core can forward the upstream bytes untouched when none applied.
 */
import { errors } from '../../spec/errors.js';
import type { ChatCompletion, FinishReason } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { fromOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { completionShapeProblem } from './reply-shape.js';

const STANDARD_FINISH_REASONS: ReadonlySet<string> = new Set(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/**
 * Maps an upstream finish reason to an OpenAI one: standard values and `null` stay, listed extras are
 * translated, anything else becomes `stop` (the reference's rule for unknown reasons).
 */
export function normalizeFinishReason(
  value: unknown,
  extras: Readonly<Record<string, FinishReason>> = {},
): FinishReason | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    if (STANDARD_FINISH_REASONS.has(value)) return value as FinishReason;
    // Own members only: a reason such as "constructor" must not find Object's.
    const mapped = Object.hasOwn(extras, value) ? extras[value] : undefined;
    if (mapped !== undefined) return mapped;
  }
  return 'stop';
}

/**
 * Usage of a completion or chunk: the standard `usage` object, else Groq's `x_groq.usage`. Undefined when neither
 * is there, or when the one there holds something other than token counts (see `fromOpenAIUsage`).
 */
export function readUsage(record: Record<string, unknown>): TokenUsage | undefined {
  if (record.usage !== undefined && record.usage !== null) return fromOpenAIUsage(record.usage);
  const groq = record.x_groq;
  if (groq !== null && typeof groq === 'object') return fromOpenAIUsage((groq as Record<string, unknown>).usage);
  return undefined;
}

/**
 * Reads the usage of a completion or chunk, and takes out of it a standard `usage` member whose counts cannot be
 * trusted: the request is then charged its reservation, and the client is not shown numbers that do not add up.
 * Returns the usage and whether the record changed.
 */
export function takeUsage(record: Record<string, unknown>): { usage: TokenUsage | undefined; changed: boolean } {
  const usage = readUsage(record);
  if (usage === undefined && record.usage !== undefined && record.usage !== null) {
    delete record.usage;
    return { usage, changed: true };
  }
  return { usage, changed: false };
}

/**
 * Normalises the `choices` of a completion or chunk in place: `null`/absent becomes `[]` and finish reasons
 * are mapped. Returns whether anything changed. `choices` of another type is left as it is, for the shape check
 * (`reply-shape.ts`) to refuse: a reply whose choices are text is broken, not empty.
 */
export function normalizeChoices(record: Record<string, unknown>, extras?: Readonly<Record<string, FinishReason>>): boolean {
  if (record.choices === undefined || record.choices === null) {
    record.choices = [];
    return true;
  }
  if (!Array.isArray(record.choices)) return false;
  let changed = false;
  for (const choice of record.choices as unknown[]) {
    if (choice === null || typeof choice !== 'object') continue;
    const entry = choice as Record<string, unknown>;
    const normalised = normalizeFinishReason(entry.finish_reason, extras);
    // An absent finish_reason is left absent: it means "not finished yet" and SDKs read it as such.
    if (entry.finish_reason !== undefined && normalised !== entry.finish_reason) {
      entry.finish_reason = normalised;
      changed = true;
    }
  }
  return changed;
}

// One decoder for every whole body: decoding without `stream: true` keeps no state between calls.
const utf8 = new TextDecoder('utf-8');

/** Parses an upstream body as a JSON object, or fails with a 502 that names the problem (never the body). */
/** A reply body as text. */
export function bodyText(body: Uint8Array | string): string {
  return typeof body === 'string' ? body : utf8.decode(body);
}

export function parseJsonObject(body: Uint8Array | string, what: string): Record<string, unknown> {
  const text = bodyText(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw errors.badGateway(`The upstream returned a ${what} that is not valid JSON.`, { upstream: true, cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw errors.badGateway(`The upstream returned a ${what} that is not a JSON object.`, { upstream: true });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parses a successful non-streamed chat completion. `passthrough` is true when the body needed no change,
 * so the core may forward the upstream bytes as they are. A completion whose members Tollgate reads are not of their
 * types is a 502: forwarded, it would break the client's SDK, and converted (/v1/messages), the conversion.
 */
export function parseChatCompletion(
  body: Uint8Array | string,
  options: { finishReasons?: Readonly<Record<string, FinishReason>> } = {},
): ChatResult {
  const record = parseJsonObject(body, 'chat completion');
  const changed = normalizeChoices(record, options.finishReasons);
  const problem = completionShapeProblem(record);
  if (problem !== undefined) {
    throw errors.invalidReply(`The upstream returned a chat completion Tollgate cannot read: ${problem}.`);
  }
  const taken = takeUsage(record);
  return {
    completion: record as unknown as ChatCompletion,
    usage: taken.usage,
    passthrough: !changed && !taken.changed,
  };
}
