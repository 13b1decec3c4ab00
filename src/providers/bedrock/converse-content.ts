/**
 * Converts OpenAI message content (strings and parts) into Converse content blocks.
 */
import { errors } from '../../spec/errors.js';
import type { ContentPart } from '../../spec/openai.js';
import type { ConverseContentBlock, ConverseDocumentFormat, ConverseImageFormat } from './converse-types.js';
import { cachePointOf } from './cache-point.js';
import { parseDataUri } from '../../spec/data-uri.js';

const IMAGE_FORMATS: Record<string, ConverseImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DOCUMENT_FORMATS_BY_MEDIA_TYPE: Record<string, ConverseDocumentFormat> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

const DOCUMENT_FORMATS = new Set<string>(Object.values(DOCUMENT_FORMATS_BY_MEDIA_TYPE));

/**
 * Hands out document names. Bedrock allows only letters, digits, single spaces, hyphens, parentheses and
 * square brackets in a name, and rejects two documents with the same name in one request.
 */
export class DocumentNamer {
  private readonly used = new Set<string>();

  next(filename: string | undefined): string {
    const stem = (filename ?? '').replace(/\.[^.]*$/, '');
    const cleaned = stem
      .replace(/[^A-Za-z0-9\s\-()[\]]/g, '-')
      .replace(/\s+/g, ' ')
      .trim();
    const base = cleaned === '' ? 'document' : cleaned;
    let name = base;
    for (let counter = 2; this.used.has(name); counter += 1) name = `${base} (${counter})`;
    this.used.add(name);
    return name;
  }
}

/** The text of a content value made only of text (system, tool and assistant messages). */
export function textOf(content: string | ContentPart[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

/**
 * Converts user content to Converse blocks. Blank text is dropped: Bedrock rejects blank text blocks. A part
 * marked with `cache_control` is followed by a cache point; a dropped part takes its marker with it.
 */
export function userContentBlocks(
  content: string | ContentPart[] | null | undefined,
  namer: DocumentNamer,
  messageIndex: number,
): ConverseContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content.trim() === '' ? [] : [{ text: content }];
  const blocks: ConverseContentBlock[] = [];
  content.forEach((part, partIndex) => {
    const param = `messages[${messageIndex}].content[${partIndex}]`;
    const cachePoint = cachePointOf(part);
    switch (part.type) {
      case 'text':
        if (part.text.trim() === '') return;
        blocks.push({ text: part.text });
        break;
      case 'image_url':
        blocks.push(imageBlock(part.image_url.url, param));
        break;
      case 'file':
        blocks.push(documentBlock(part.file, namer, param));
        break;
      case 'input_audio':
        throw errors.badRequest('Bedrock Converse does not accept audio input.', { code: 'unsupported_content', param });
      default:
        throw errors.badRequest(`Unsupported content part type for Bedrock.`, { code: 'unsupported_content', param });
    }
    if (cachePoint !== undefined) blocks.push({ cachePoint });
  });
  return blocks;
}

function imageBlock(url: string, param: string): ConverseContentBlock {
  const data = parseDataUri(url);
  if (data === undefined) {
    // Fetching remote images would make the gateway an open HTTP client; clients inline them instead.
    throw errors.badRequest('Bedrock accepts images only as base64 data URIs (data:image/png;base64,...).', {
      code: 'unsupported_content',
      param,
    });
  }
  const format = IMAGE_FORMATS[data.mediaType];
  if (format === undefined) {
    throw errors.badRequest(`Bedrock does not accept images of type ${data.mediaType}; use png, jpeg, gif or webp.`, {
      code: 'unsupported_content',
      param,
    });
  }
  return { image: { format, source: { bytes: data.base64 } } };
}

function documentBlock(
  file: { file_data?: string; file_id?: string; filename?: string },
  namer: DocumentNamer,
  param: string,
): ConverseContentBlock {
  const data = file.file_data === undefined ? undefined : parseDataUri(file.file_data);
  if (data === undefined) {
    throw errors.badRequest('Bedrock accepts files only inline as file_data data URIs; file ids are not supported.', {
      code: 'unsupported_content',
      param,
    });
  }
  const extension = file.filename?.match(/\.([A-Za-z0-9]+)$/)?.[1]?.toLowerCase();
  const format =
    DOCUMENT_FORMATS_BY_MEDIA_TYPE[data.mediaType] ??
    (extension !== undefined && DOCUMENT_FORMATS.has(extension) ? (extension as ConverseDocumentFormat) : undefined);
  if (format === undefined) {
    throw errors.badRequest(`Bedrock does not accept documents of type ${data.mediaType}.`, {
      code: 'unsupported_content',
      param,
    });
  }
  return { document: { format, name: namer.next(file.filename), source: { bytes: data.base64 } } };
}
