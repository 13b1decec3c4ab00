/**
 * Micro-benchmark of parsing a JSON request body safely: Fastify's secure parser (`secure-json-parse`, which tests
 * the text with two regular expressions, then scans the keys of a body they match) against Tollgate's
 * (`parseUnlessDangerous`: `JSON.parse`, then a scan of the parsed keys only for text that could spell a dangerous
 * key; until 2026-12-07 Tollgate ran the secure parser on such text, and `JSON.parse` plus substring tests for the
 * words without their quotes on the rest). Bodies: the load benchmark's 50 KB English prompt; French and German sent
 * as UTF-8; prompts whose every character outside ASCII is escaped as Python's `json` module writes them by default
 * (Chinese, French and German); a 400-turn conversation with such escapes; a prompt of JavaScript code (which says
 * `constructor`). Compare numbers within one run only.
 *
 *   node --import tsx bench/micro/json-body-parser.ts [--iterations=2000] [--rounds=5]
 */
import secureJson from 'secure-json-parse';
import { DANGEROUS, parseUnlessDangerous } from '../../src/server/json-body-parser.js';
import { requestBody } from '../lib/scenarios.js';

const argument = (name: string, fallback: number) => {
  const found = process.argv.find((value) => value.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const iterations = argument('iterations', 2_000);
const rounds = argument('rounds', 5);

/** JSON text as Python's `json.dumps` writes it by default: every character outside ASCII as a `\u` escape. */
function escapedAsPython(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const code = 'class Meter {\n  constructor(limit) {\n    this.limit = limit;\n    this.used = 0;\n  }\n  take(amount) {\n    return this.used + amount <= this.limit;\n  }\n}\n';
const bodies: Record<string, string> = {
  'English prompt, 50 KB': requestBody('prompt-50k', 'gpt-4o-mini'),
  'French and German prompt, UTF-8': JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Ça a été très réussi, über schön, je crois que la rivière est profonde. '.repeat(1_400) }] }),
  'Chinese prompt, escaped': escapedAsPython({ model: 'm', messages: [{ role: 'user', content: '请总结下面这段文字的要点。'.repeat(1_400) }] }),
  'French and German prompt, escaped': escapedAsPython({ model: 'm', messages: [{ role: 'user', content: 'Ça a été très réussi, über schön. '.repeat(1_500) }] }),
  'conversation of 400 turns, escaped': escapedAsPython({
    model: 'm',
    messages: Array.from({ length: 400 }, (_, turn) => ({ role: turn % 2 === 0 ? 'user' : 'assistant', content: `turn ${turn}: “quoted” words, café and 😀` })),
  }),
  'JavaScript code, 50 KB': JSON.stringify({ model: 'm', messages: [{ role: 'user', content: code.repeat(280) }] }),
};

let sink = 0;

/** Microseconds per parse, best of the rounds. */
function measure(parse: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index += 1) if (parse() !== DANGEROUS) sink += 1;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations / 1000);
  }
  return best;
}

for (const [name, text] of Object.entries(bodies)) {
  if (parseUnlessDangerous(text) === DANGEROUS) throw new Error(`${name}: refused`);
  const secure = measure(() => secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
  const ours = measure(() => parseUnlessDangerous(text));
  const plain = measure(() => JSON.parse(text));
  console.log(`${name.padEnd(36)} ${String(text.length).padStart(7)} B   secure-json-parse ${secure.toFixed(1).padStart(7)} µs   Tollgate ${ours.toFixed(1).padStart(7)} µs   JSON.parse alone ${plain.toFixed(1).padStart(7)} µs`);
}
if (sink === 0) console.log('');
