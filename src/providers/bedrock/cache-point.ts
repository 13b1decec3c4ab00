/**
 * Prompt caching on Bedrock. Clients mark cached prefixes the Anthropic way, with `cache_control` on a content
 * part or a tool (an extension of the chat format that `/v1/messages` also produces for Claude routes);
 * Converse marks them with a separate `cachePoint` block placed right after the content it closes.
 */
import type { ContentPart } from '../../spec/openai.js';
import type { ConverseCachePoint } from './converse-types.js';

/**
 * The cache point for an object's `cache_control` marker (a content part or a tool), or undefined when it has
 * none. Any marker object counts, as it does on the Anthropic route: `ephemeral` is the only kind clients send.
 */
export function cachePointOf(holder: unknown): ConverseCachePoint | undefined {
  if (holder === null || typeof holder !== 'object') return undefined;
  const marker = (holder as Record<string, unknown>).cache_control;
  if (marker === null || typeof marker !== 'object' || Array.isArray(marker)) return undefined;
  const point: ConverseCachePoint = { type: 'default' };
  // Anthropic's `ttl` takes the same values as Converse's ("5m", "1h"); anything else is left for Bedrock to refuse
  // rather than silently cached for the default five minutes.
  const ttl = (marker as Record<string, unknown>).ttl;
  if (typeof ttl === 'string') point.ttl = ttl;
  return point;
}

/** A run of text that Tollgate sends as one block, with the cache point that closes it, if any. */
export interface TextSegment {
  text: string;
  cachePoint: ConverseCachePoint | undefined;
}

/**
 * Splits text-only content (system, developer, assistant) at its cache markers. Without markers this is one
 * segment holding the text joined as before, so marking a part changes where the blocks break, never the
 * text the model reads. Non-text parts are ignored, as they always were for these roles.
 */
export function textSegments(content: string | ContentPart[] | null | undefined): TextSegment[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [{ text: content, cachePoint: undefined }];
  const segments: TextSegment[] = [];
  let text = '';
  for (const part of content) {
    if (part.type !== 'text') continue;
    text += part.text;
    const point = cachePointOf(part);
    if (point !== undefined) {
      segments.push({ text, cachePoint: point });
      text = '';
    }
  }
  if (text !== '' || segments.length === 0) segments.push({ text, cachePoint: undefined });
  return segments;
}

/**
 * The cache point for content Converse sends as a single block (a tool result): the last marker among its
 * parts, since the block ends the prefix whichever part was marked. Undefined when no part is marked.
 */
export function lastCachePointOf(content: string | ContentPart[] | null | undefined): ConverseCachePoint | undefined {
  if (!Array.isArray(content)) return undefined;
  let point: ConverseCachePoint | undefined;
  for (const part of content) point = cachePointOf(part) ?? point;
  return point;
}
