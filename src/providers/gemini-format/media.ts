/**
 * Turns OpenAI media references (data URIs, URLs, file ids) into Gemini `inlineData` / `fileData` parts.
 */
import type { GeminiPart } from './types.js';
import { parseDataUri as parseSharedDataUri } from '../../spec/data-uri.js';

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  html: 'text/html',
  csv: 'text/csv',
  md: 'text/markdown',
  json: 'application/json',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  aac: 'audio/aac',
  mp4: 'video/mp4',
  mov: 'video/mov',
  webm: 'video/webm',
};

/** A data URI split into its MIME type and base64 payload (Gemini's `inlineData`), or undefined when the text is not one. */
export function parseDataUri(uri: string): { mimeType: string; data: string } | undefined {
  const parsed = parseSharedDataUri(uri);
  return parsed === undefined ? undefined : { mimeType: parsed.mediaType, data: parsed.base64 };
}

/** Guesses a MIME type from a URL's or file name's extension. */
export function mimeTypeFromName(name: string | undefined, fallback: string): string {
  if (!name) return fallback;
  const path = name.split(/[?#]/)[0] ?? '';
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && MIME_BY_EXTENSION[extension]) || fallback;
}

/**
 * A part for a media reference: data URIs are inlined, anything else is passed as a `fileData` URI
 * (Files-API URIs, `gs://` objects; Google decides whether it can read other URLs).
 */
export function mediaPart(reference: string, fallbackMimeType: string, fileName?: string): GeminiPart {
  const inline = parseDataUri(reference);
  if (inline) return { inlineData: inline };
  return { fileData: { mimeType: mimeTypeFromName(fileName ?? reference, fallbackMimeType), fileUri: reference } };
}

/** OpenAI `input_audio.format` ("wav", "mp3") as a MIME type. */
export function audioMimeType(format: string): string {
  if (format.includes('/')) return format;
  return MIME_BY_EXTENSION[format.toLowerCase()] ?? `audio/${format.toLowerCase()}`;
}
