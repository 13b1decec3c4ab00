/**
 * An estimate of the input tokens of an Anthropic Messages request, for `/v1/messages/count_tokens` when the model's
 * provider has no token counter of its own. Text is counted with OpenAI's o200k tokenizer (gpt-tokenizer), which
 * lands within some per cent of other families' byte-level BPE counts for English and code; what is not text gets
 * the allowances below. It is an estimate and is answered as one (`x-tollgate-token-count: estimated`).
 */
import { isRecord } from '../../spec/json-value.js';

type TokenCounter = (text: string) => number;

/**
 * The tokenizer, loaded on the first estimate: its tables take ~40 MB of a running gateway's memory and ~150 ms to
 * load, which a gateway whose clients never ask for an estimate should not pay.
 */
let tokenizer: Promise<TokenCounter> | undefined;
function loadTokenizer(): Promise<TokenCounter> {
  tokenizer ??= import('gpt-tokenizer/encoding/o200k_base').then((module) => (text: string) => module.countTokens(text));
  return tokenizer;
}

/** Role markers and separators around one message (OpenAI's published figure). */
const MESSAGE_OVERHEAD = 3;
/** The priming for the reply. */
const REQUEST_OVERHEAD = 3;
/** The tool-use instructions providers add once when tools are present (Anthropic's is about 350 tokens). */
const TOOLS_PROMPT = 350;
/** An image or a document that is not text: Anthropic's image ceiling (about 1,600 tokens for 1.15 megapixels). */
const MEDIA_BLOCK = 1_600;
/**
 * Above this many characters of text the tokenizer is not run (~100 ms per MB on one core, on the event loop):
 * a quarter token a byte is used instead, the usual rate for English.
 */
const TOKENIZED_CHARACTERS = 512 * 1024;

/** The input tokens `body` (a Messages request, validated at the door) is estimated to take. */
export async function estimateMessagesTokens(body: Record<string, unknown>): Promise<number> {
  const texts: string[] = [];
  let allowance = REQUEST_OVERHEAD;
  collectContent(body.system, texts, (tokens) => (allowance += tokens));
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      allowance += MESSAGE_OVERHEAD;
      if (isRecord(message)) collectContent(message.content, texts, (tokens) => (allowance += tokens));
    }
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    allowance += TOOLS_PROMPT;
    texts.push(JSON.stringify(body.tools));
  }
  const text = texts.join('\n');
  if (text.length > TOKENIZED_CHARACTERS) return allowance + Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
  return allowance + (text === '' ? 0 : (await loadTokenizer())(text));
}

/** Adds the text of a string or of content blocks to `texts`, and the allowance of what is not text. */
function collectContent(content: unknown, texts: string[], allow: (tokens: number) => void): void {
  if (typeof content === 'string') {
    texts.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const block of content) {
    if (!isRecord(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') texts.push(block.text);
        break;
      case 'thinking':
        if (typeof block.thinking === 'string') texts.push(block.thinking);
        break;
      case 'tool_use':
        texts.push(`${String(block.name)} ${JSON.stringify(block.input ?? {})}`);
        break;
      case 'tool_result':
        collectContent(block.content, texts, allow);
        break;
      case 'document':
        if (isRecord(block.source) && block.source.type === 'text' && typeof block.source.data === 'string') texts.push(block.source.data);
        else allow(MEDIA_BLOCK);
        break;
      case 'image':
        allow(MEDIA_BLOCK);
        break;
      default:
        // A block type Tollgate does not know: its JSON, which over-counts rather than misses.
        texts.push(JSON.stringify(block));
    }
  }
}
