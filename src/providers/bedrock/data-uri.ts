/** A decoded `data:` URI: its media type and its bytes as base64 (how Converse carries binary content). */
export interface DataUri {
  mediaType: string;
  base64: string;
}

/** Parses a `data:<media type>[;base64],<data>` URI; undefined when the text is not a data URI. */
export function parseDataUri(uri: string): DataUri | undefined {
  if (!uri.startsWith('data:')) return undefined;
  const comma = uri.indexOf(',');
  if (comma < 0) return undefined;
  const meta = uri.slice(5, comma).split(';');
  const mediaType = (meta[0] ?? '').trim().toLowerCase() || 'text/plain';
  const data = uri.slice(comma + 1);
  const isBase64 = meta.slice(1).some((parameter) => parameter.trim().toLowerCase() === 'base64');
  // Re-encoding normalises URL-safe or whitespace-broken base64 into the canonical alphabet Bedrock expects.
  const bytes = isBase64 ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8');
  return { mediaType, base64: bytes.toString('base64') };
}
