/**
 * Gateway-generated tool-call ids for Gemini, whose function calls carry no usable id.
 *
 * Gemini 3 attaches an opaque `thoughtSignature` to function calls and answers 400 when a replayed call lacks
 * it. OpenAI clients echo tool-call ids back verbatim but drop any other field, so the signature rides inside
 * the id: `call_<random>` or `call_<random>~ts~<signature>`.
 */
import { randomBytes } from 'node:crypto';

const SIGNATURE_SEPARATOR = '~ts~';

/** A fresh `call_…` id, carrying the thought signature when the upstream sent one. */
export function generateToolCallId(thoughtSignature?: string): string {
  const id = `call_${randomBytes(12).toString('hex')}`;
  return thoughtSignature ? `${id}${SIGNATURE_SEPARATOR}${thoughtSignature}` : id;
}

/** The thought signature carried by a tool-call id generated here, if any. */
export function readThoughtSignature(toolCallId: string | undefined): string | undefined {
  if (!toolCallId) return undefined;
  const at = toolCallId.indexOf(SIGNATURE_SEPARATOR);
  if (at < 0) return undefined;
  const signature = toolCallId.slice(at + SIGNATURE_SEPARATOR.length);
  return signature.length > 0 ? signature : undefined;
}
