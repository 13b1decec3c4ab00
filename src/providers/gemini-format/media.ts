/**
 * Turns OpenAI media references (data URIs, URLs, file ids) into Gemini `inlineData` / `fileData` parts.
 */
import type { GeminiPart } from './types.js';

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

/** A data URI split into its MIME type and base64 payload, or undefined when the text is not one. */
export function parseDataUri(uri: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(uri);
  if (!match) return undefined;
  const mimeType = match[1] || 'text/plain';
  const isBase64 = (match[2] ?? '').split(';').includes('base64');
  const payload = match[3] ?? '';
  const data = isBase64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mimeType, data };
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
