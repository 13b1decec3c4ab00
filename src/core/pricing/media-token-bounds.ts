/**
 * Upper bounds on the input tokens of non-text message parts: images, audio and files. None of them decodes
 * the media (that would cost more than the request's metering is worth); each reads at most a header.
 */
import type { AudioPart, FilePart } from '../../spec/openai.js';

/**
 * Tokens an image may cost on any provider we know of. The largest published formulas at the time of writing:
 * OpenAI tiles at most 8 tiles of 512 px for `detail: high` (85 + 8 x 170 = 1,445 on gpt-4o), patch-based
 * models cap at 1,536 patches times a multiplier of at most 2.46 (3,779 on gpt-4.1-nano); Claude scales images
 * to about 1.15 megapixels (~1,600 tokens) or ~4,800 for its high-resolution models; Gemini 3 charges at most
 * 1,120 per image and Gemini 2.x 258 per 768 px tile; Pixtral's 16 px patches over 1024 px give 4,160.
 * 16,384 leaves room above all of these without knowing the image's size.
 */
export const IMAGE_TOKEN_CEILING = 16_384;

/**
 * gpt-4o-mini bills images with inflated token counts (2,833 base + 5,667 per tile, up to 8 tiles) so that
 * images cost as much as on gpt-4o: 48,169 tokens at most.
 */
export const GPT_4O_MINI_IMAGE_TOKEN_CEILING = 48_169;

/** The most audio tokens a second of sound costs: Gemini's documented 32 (OpenAI's audio models use about 10). */
export const AUDIO_TOKENS_PER_SECOND = 32;

/**
 * Lowest plausible byte rates, used when the header does not tell: MPEG audio layer III has no bitrate below
 * 8 kbit/s; Opus, the most frugal codec the providers accept, goes down to 6 kbit/s, so 4 kbit/s is below every
 * format's floor.
 */
const MINIMUM_BYTES_PER_SECOND: Readonly<Record<string, number>> = { mp3: 1_000 };
const DEFAULT_MINIMUM_BYTES_PER_SECOND = 500;

/** Tokens for the audio part's wrapper (format markers, start and end tokens). */
const AUDIO_PART_OVERHEAD_TOKENS = 64;

/** Tokens a file part costs beyond its bytes: page images, document wrappers. */
export const FILE_PART_BASE_TOKENS = 4_096;

/**
 * The most a single file part may cost: the providers cap documents at 100 pages (OpenAI, Anthropic) to
 * 1,000 pages (Gemini, at up to 560 tokens a page), and no context window we meter is larger than this.
 * It is also the bound for a file referenced by id, whose size we cannot see.
 */
export const FILE_PART_CEILING = 1_000_000;

/** The image ceiling for the model that will see the image. */
export function imageTokenCeiling(model: string): number {
  return /gpt-4o-mini/i.test(model) ? GPT_4O_MINI_IMAGE_TOKEN_CEILING : IMAGE_TOKEN_CEILING;
}

/**
 * An upper bound on an audio part's tokens: its duration (from a WAV header when there is one, else from the
 * lowest plausible byte rate of its format) times the highest token rate per second.
 */
export function audioTokenBound(part: AudioPart): number {
  const data = stripDataUrlPrefix(part.input_audio?.data ?? '');
  const bytes = base64DecodedLength(data);
  const format = (part.input_audio?.format ?? '').toLowerCase();
  const bytesPerSecond =
    (format === 'wav' || format === 'wave' ? wavBytesPerSecond(data) : undefined) ??
    MINIMUM_BYTES_PER_SECOND[format] ??
    DEFAULT_MINIMUM_BYTES_PER_SECOND;
  return Math.ceil((bytes / bytesPerSecond) * AUDIO_TOKENS_PER_SECOND) + AUDIO_PART_OVERHEAD_TOKENS;
}

/**
 * Tokens per byte of an attached file. One token per byte is already a true bound for text files (see
 * token-bounds.ts). For PDFs it is an estimate, not a proof: providers bill a page as its text (1,500-3,000
 * tokens) plus a page image (up to ~1,600), about 4,600 tokens, and two tokens per byte covers that for pages
 * of 2.3 KB or more, which typical documents exceed; an unusually well-compressed PDF can go past it, and the
 * per-file ceiling is then what holds.
 */
export const FILE_TOKENS_PER_BYTE = 2;

/**
 * A bound on a file part's tokens: a fixed allowance plus `FILE_TOKENS_PER_BYTE` per byte of the file, capped by
 * the per-file ceiling. Files referenced by id have an unknown size and get the ceiling.
 */
export function fileTokenBound(part: FilePart): number {
  const data = part.file?.file_data;
  if (typeof data !== 'string') return FILE_PART_CEILING;
  const bytes = base64DecodedLength(stripDataUrlPrefix(data));
  return Math.min(FILE_PART_CEILING, FILE_PART_BASE_TOKENS + bytes * FILE_TOKENS_PER_BYTE);
}

/** The decoded size of base64 text, computed from its length (padding and whitespace make it an over-estimate). */
export function base64DecodedLength(base64: string): number {
  return Math.ceil((base64.length * 3) / 4);
}

function stripDataUrlPrefix(data: string): string {
  if (!data.startsWith('data:')) return data;
  const comma = data.indexOf(',');
  return comma === -1 ? data : data.slice(comma + 1);
}

/**
 * The byte rate of a WAV file, read from its `fmt ` chunk when that chunk comes first (it almost always does).
 * Of the declared byte rate and sample rate x block size we keep the lower, which means the longer duration,
 * whichever of them the provider believes; compressed formats declare a large block size, so the byte rate wins.
 */
function wavBytesPerSecond(base64: string): number | undefined {
  // 48 bytes hold the RIFF header and the fmt chunk's fields we read.
  const header = Buffer.from(base64.slice(0, 64), 'base64');
  if (header.length < 36) return undefined;
  if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 16) !== 'WAVEfmt ') return undefined;
  const sampleRate = header.readUInt32LE(24);
  const byteRate = header.readUInt32LE(28);
  const blockAlign = header.readUInt16LE(32);
  const rates = [byteRate, sampleRate * blockAlign].filter((rate) => rate > 0);
  return rates.length === 0 ? undefined : Math.min(...rates);
}
