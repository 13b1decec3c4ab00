/**
 * Anthropic's beta features: a client of the Messages API turns one on with `anthropic-beta: name1,name2` (the
 * Anthropic SDKs' `betas`; Claude Code sends several on every request). Tollgate carries the names to Claude
 * upstreams, as a header (Anthropic, Vertex AI) or a body member (Bedrock's `anthropic_beta`), and nowhere else.
 */
import { errors } from './errors.js';

/** A beta's name, e.g. `context-1m-2025-08-07`: what Anthropic publishes, and nothing that could bend a header. */
const BETA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_BETAS = 32;

/**
 * Reads the betas a client asked for: a comma list (the header; repeated header lines arrive joined by commas) or
 * a list of names (the `anthropic_beta` extension of a chat request). Undefined when there are none.
 * @param param where the value came from, named in the 400 a malformed value gets
 */
export function readAnthropicBetas(value: unknown, param: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  let names: unknown[];
  if (typeof value === 'string') names = value.split(',');
  else if (Array.isArray(value)) names = value;
  else throw errors.badRequest(`${param} must be a list of beta names.`, { param, code: 'invalid_anthropic_beta' });
  const betas: string[] = [];
  for (const name of names) {
    const trimmed = typeof name === 'string' ? name.trim() : undefined;
    // An empty item (a trailing comma) is skipped, as Anthropic's API does.
    if (trimmed === '') continue;
    if (trimmed === undefined || !BETA_NAME.test(trimmed)) {
      throw errors.badRequest(`${param} holds a value that is not a beta name (letters, digits, '.', '_' and '-').`, { param, code: 'invalid_anthropic_beta' });
    }
    if (!betas.includes(trimmed)) betas.push(trimmed);
  }
  if (betas.length > MAX_BETAS) throw errors.badRequest(`${param} names more than ${MAX_BETAS} betas.`, { param, code: 'invalid_anthropic_beta' });
  return betas.length > 0 ? betas : undefined;
}

/** The union of beta lists in order of first appearance (an operator's configured header, then the client's). */
export function mergeAnthropicBetas(...lists: (readonly string[] | undefined)[]): string[] {
  const merged: string[] = [];
  for (const list of lists) for (const name of list ?? []) if (!merged.includes(name)) merged.push(name);
  return merged;
}

/**
 * Sets `anthropic-beta` on lower-cased request headers to the union of what they hold (an operator's configured
 * extra header) and the client's betas; leaves the headers as they are when the client asked for none.
 */
export function addAnthropicBetaHeader(headers: Record<string, string>, betas: readonly string[] | undefined): void {
  if (betas === undefined || betas.length === 0) return;
  const configured = headers['anthropic-beta']?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  headers['anthropic-beta'] = mergeAnthropicBetas(configured, betas).join(',');
}
