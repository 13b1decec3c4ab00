/**
 * Micro-benchmark of building the upstream chat body: `buildChatRequest` serialising the whole body with
 * JSON.stringify (no source) against copying the unchanged members from the client's bytes (with a source), for the
 * load benchmark's small chat body and ~50 KB prompt, and for a ~50 KB conversation of many short turns with
 * escapes. "first use" includes scanning the bytes (what every request pays once); "cached" is a retry or fallback
 * on the same source. Each case ends with the body's bytes, which the HTTP client sends (it encodes a string first).
 * Short-running; compare numbers within one run only.
 *
 *   node --import tsx bench/micro/serialize-with-source.ts [--iterations=20000] [--rounds=5]
 */
import { buildChatRequest } from '../../src/providers/openai-compatible/request.js';
import type { CompatibleDescription } from '../../src/providers/openai-compatible/description.js';
import { createTestContext } from '../../src/providers/openai-compatible/test-support.js';
import type { JsonSource } from '../../src/spec/json-source.js';
import type { ChatCompletionRequest } from '../../src/spec/openai.js';
import { requestBody } from '../lib/scenarios.js';

const argument = (name: string, fallback: number) => {
  const found = process.argv.find((value) => value.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const iterations = argument('iterations', 20_000);
const rounds = argument('rounds', 5);

const description: CompatibleDescription = {
  type: 'openai',
  displayName: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com',
  credentialStyle: 'value',
  knownModels: [],
};
const context = createTestContext({ model: 'gpt-4o-mini' });

function conversation(): string {
  const turns: Array<{ role: string; content: string }> = [{ role: 'system', content: 'You are a "concise" assistant.\nAnswer in café style — briefly.' }];
  let index = 0;
  while (JSON.stringify(turns).length < 50_000) {
    turns.push({ role: index % 2 === 0 ? 'user' : 'assistant', content: `Turn ${index}: a line with "quotes", a back\\slash, a tab\tand été ${'lorem ipsum '.repeat(30)}` });
    index += 1;
  }
  return JSON.stringify({ model: 'openai/gpt-4o-mini', messages: turns, temperature: 0.2, max_tokens: 64, fallbacks: ['groq/llama-3.3-70b-versatile'], stream: true });
}

const bodies: Record<string, string> = {
  'chat (small body)': requestBody('chat', 'openai/gpt-4o-mini'),
  'prompt-50k (one long message)': requestBody('prompt-50k', 'openai/gpt-4o-mini'),
  'conversation-50k (many turns, escapes)': conversation(),
};

let sink = 0;

/** Nanoseconds per operation, best of the rounds. */
function measure(operation: () => number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index += 1) sink += operation();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations);
  }
  return best;
}

for (const [name, text] of Object.entries(bodies)) {
  const values = JSON.parse(text) as Record<string, unknown>;
  const { fallbacks: _fallbacks, ...rest } = values;
  const request = rest as unknown as ChatCompletionRequest;
  const stream = request.stream === true;
  const bytes = Buffer.from(text);
  // What undici sends: a string body is encoded to bytes first.
  const build = (source: JsonSource | undefined) => {
    const body = buildChatRequest(description, request, context, { stream, ...(source ? { source } : {}) }).body!;
    return typeof body === 'string' ? Buffer.from(body).length : body.byteLength;
  };
  const cached: JsonSource = { bytes, values };
  const cases: Record<string, () => number> = {
    'JSON.stringify + bytes': () => build(undefined),
    'source, first use': () => build({ bytes, values }),
    'source, cached (retry)': () => build(cached),
  };
  console.log(`\n${name}: ${text.length} characters, ${stream ? 'streamed' : 'not streamed'}`);
  for (const [label, operation] of Object.entries(cases)) {
    const nanoseconds = measure(operation);
    console.log(`  ${label.padEnd(28)} ${(nanoseconds / 1000).toFixed(2).padStart(8)} µs`);
  }
}
if (sink === 0) console.log('');
