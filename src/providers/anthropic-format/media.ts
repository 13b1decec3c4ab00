/** OpenAI media parts (image URLs, file data) as Anthropic image and document blocks. */
import type { AnthropicDocumentBlock, AnthropicImageBlock } from '../../spec/anthropic.js';
import { errors } from '../../spec/errors.js';
import type { FilePart } from '../../spec/openai.js';
import { parseDataUri, type DataUri } from '../../spec/data-uri.js';

export { parseDataUri, type DataUri };

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function blockFromData(data: DataUri, param: string, title?: string): AnthropicImageBlock | AnthropicDocumentBlock {
  if (data.mediaType.startsWith('image/')) {
    return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.base64 } };
  }
  if (data.mediaType === 'application/pdf') {
    const block: AnthropicDocumentBlock = {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: data.base64 },
    };
    if (title !== undefined && title !== '') block.title = title;
    return block;
  }
  if (data.mediaType === 'text/plain') {
    const block: AnthropicDocumentBlock = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: Buffer.from(data.base64, 'base64').toString('utf8') },
    };
    if (title !== undefined && title !== '') block.title = title;
    return block;
  }
  throw errors.badRequest(`Anthropic models do not accept files of type ${data.mediaType}; send images, PDF or plain text.`, {
    param,
    code: 'unsupported_media_type',
  });
}

/**
 * An `image_url` part as an image block: data URIs become base64 sources, http(s) URLs are fetched by the
 * API itself. A PDF data URI sent as an image becomes a document block, since that is what the client meant.
 */
export function imageUrlToBlock(url: string, param: string): AnthropicImageBlock | AnthropicDocumentBlock {
  if (isHttpUrl(url)) return { type: 'image', source: { type: 'url', url } };
  const data = parseDataUri(url);
  if (data === undefined) {
    throw errors.badRequest('An image URL must be an http(s) URL or a base64 data URI.', { param, code: 'invalid_image_url' });
  }
  return blockFromData(data, param);
}

/**
 * A `file` part as a document block. OpenAI's `file_data` is a data URI; bare base64 is read as a PDF, the
 * only binary document type the API takes. OpenAI file ids mean nothing to Anthropic.
 */
export function filePartToBlock(file: FilePart['file'], param: string): AnthropicImageBlock | AnthropicDocumentBlock {
  if (file.file_data === undefined || file.file_data === '') {
    throw errors.badRequest('Anthropic models need the file content in `file_data`; file ids are not supported.', {
      param,
      code: 'unsupported_file_reference',
    });
  }
  const data = parseDataUri(file.file_data) ?? { mediaType: 'application/pdf', base64: file.file_data.replace(/\s+/g, '') };
  return blockFromData(data, param, file.filename);
}
