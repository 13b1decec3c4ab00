/** A decoded `data:` URI: its media type, and its bytes as base64 in the canonical alphabet. */
export interface DataUri {
  mediaType: string;
  base64: string;
}

/**
 * Parses `data:<media type>[;base64],<data>`; undefined when the text is not a data URI or its data cannot be
 * decoded (malformed percent-encoding), so that callers answer with their own 400 instead of failing the request.
 * The media type is lower-cased (`text/plain` when absent), and `image/jpg`, which browsers and some SDKs write,
 * becomes `image/jpeg`, the name providers accept. The bytes are re-encoded, which turns URL-safe or line-broken
 * base64 into the plain alphabet that providers validate against.
 */
export function parseDataUri(uri: string): DataUri | undefined {
  if (!uri.startsWith('data:')) return undefined;
  const comma = uri.indexOf(',');
  if (comma < 0) return undefined;
  const meta = uri.slice(5, comma).split(';');
  const declared = (meta[0] ?? '').trim().toLowerCase() || 'text/plain';
  const mediaType = declared === 'image/jpg' ? 'image/jpeg' : declared;
  const data = uri.slice(comma + 1);
  const isBase64 = meta.slice(1).some((parameter) => parameter.trim().toLowerCase() === 'base64');
  let bytes: Buffer;
  try {
    bytes = isBase64 ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8');
  } catch {
    return undefined;
  }
  return { mediaType, base64: bytes.toString('base64') };
}
