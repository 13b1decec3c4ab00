/**
 * Malformed and unexpected upstream replies, for every provider family and both modes. Whatever an upstream
 * answers (a proxy's HTML page, a body cut short, JSON of the wrong shape, stream events of an unexpected shape,
 * corrupt event-stream frames, a stream that stops half-way), a client gets a status below 500 or a 502/504 in the
 * error shape, or a stream that ends cleanly (`[DONE]`, `message_stop`, or the in-stream error event as its last
 * event), and the API key's reservation is settled after each request. The key allows one request at a time, so
 * a leaked reservation would also refuse the next request with 429.
 *
 * The mocks still check what each real provider demands (path, credentials) before playing the scripted reply.
 * Beside the explicit cases, a seeded fuzz mutates each family's valid reply (a member at any depth replaced by
 * a value of another JSON type or deleted, events dropped, duplicated or garbled, bodies cut short).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdapterRegistry } from '../../src/providers/index.js';
import { createReplicateAdapterWith } from '../../src/providers/replicate/index.js';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startCohereMock, type CohereMock } from '../mocks/cohere-mock.js';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import type { RawReply } from '../mocks/mock-server.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startReplicateMock, type ReplicateMock } from '../mocks/replicate-mock.js';
import { seededRandom } from '../inference/inference-helpers.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { chatRoutes, expectSaneUsage, sseEvents, tryReplyAs, type Route } from './malformed-reply-checks.js';
import { malformedReplyFamilies, replicatePredictionsOf, type ReplicatePrediction, type ReplyFamily } from './malformed-reply-families.js';
import { keyProviders, singleFlightApiKey, withoutRetries } from './malformed-reply-gateway.js';
import { mutateCompletion, mutateStream } from './malformed-reply-mutations.js';
import { clone, json, memberPaths, mutateMember, notReplies, parentOf, parseJson, setAt, withRawNumber, type Json } from './malformed-reply-support.js';
import { bedrockFrames, upstreamText, type ScriptedEvent } from './upstream-reply-fixtures.js';
import { createKeyPair } from './vertex-support.js';

let openaiMock: OpenAIMock;
let azureMock: AzureMock;
let anthropicMock: AnthropicMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let cohereMock: CohereMock;
let replicateMock: ReplicateMock;
let tollgate: LiveGateway;
let apiKeyId: string;
let clientHeaders: Record<string, string>;
/** Settled predictions naming the one the warm-up made, for the scripted follow-up reads. */
let replicatePrediction: ReplicatePrediction;
const families: ReplyFamily[] = [];
/** Sends as the client of the test under way: the key it holds changes before each test. */
const tryReply = tryReplyAs(() => ({ tollgate, apiKeyId, clientHeaders }));

// --- The gateway and its upstreams ---------------------------------------------------------------------------

beforeAll(async () => {
  const keyPair = createKeyPair();
  openaiMock = await startOpenAIMock({ apiKeys: ['sk-openai'] });
  azureMock = await startAzureMock({ apiKeys: ['azure-key'], claude: true });
  anthropicMock = await startAnthropicMock({ apiKeys: ['sk-ant'] });
  googleMock = await startGoogleMock({ apiKeys: ['gemini-key'], serviceAccountPublicKeyPem: keyPair.publicKeyPem });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATEFUZZ0002', secretAccessKey: 'fuzz-secret' }, apiKeys: ['bedrock-key'], region: 'us-east-1' });
  cohereMock = await startCohereMock({ apiKeys: ['cohere-key'] });
  replicateMock = await startReplicateMock({ apiKeys: ['replicate-key'] });
  // Polls answer at once: a mutated status that reads "processing" must not make the test wait on timers.
  const adapters = new Map(createAdapterRegistry());
  adapters.set('replicate', createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } }));
  tollgate = await startLiveGateway({ adapters });
  // OpenAI's adapter as a custom provider: it speaks chat completions on every route (OpenAI's own takes /v1/responses natively).
  const compatible = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'compatible', custom_provider_config: { base_provider_type: 'openai' } } });
  expect(compatible.status, compatible.text).toBe(201);
  await keyProviders(
    tollgate,
    [
      ['openai', openaiMock.baseUrl, 'sk-openai'],
      ['compatible', openaiMock.baseUrl, 'sk-openai'],
      ['anthropic', anthropicMock.baseUrl, 'sk-ant'],
      ['gemini', googleMock.baseUrl, 'gemini-key'],
      ['bedrock', bedrockMock.baseUrl, 'bedrock-key'],
      ['cohere', cohereMock.baseUrl, 'cohere-key'],
      ['replicate', replicateMock.baseUrl, 'replicate-key'],
    ],
    { googleMock, keyPair },
  );
  // Azure through a key on its v1 API, the one on which it serves the Responses API; its Claude deployments through the same key.
  await tollgate.configureProvider('azure', withoutRetries());
  await tollgate.addKey('azure', { name: 'azure', value: 'azure-key', azure_key_config: { endpoint: azureMock.baseUrl, api_version: 'v1' } });
  await useFreshApiKey();

  // A prediction made the ordinary way: scripted creations name it, so the mock serves its stream and reads.
  const warmUp = await fetch(`${tollgate.url}/v1/chat/completions`, {
    method: 'POST',
    headers: clientHeaders,
    body: JSON.stringify({ model: 'replicate/meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content: 'hello' }], stream: true }),
  });
  await warmUp.text();
  const created = replicateMock.requests.find((request) => request.method === 'POST' && request.path.endsWith('/predictions'));
  expect(created, 'the warm-up created a prediction').toBeDefined();
  // The mock numbers its predictions from 1: the warm-up's is the first.
  const knownPrediction = `mockpred${String(1).padStart(18, '0')}`;
  replicatePrediction = replicatePredictionsOf(replicateMock.baseUrl, knownPrediction);

  families.push(...malformedReplyFamilies({ openaiMock, azureMock, anthropicMock, googleMock, bedrockMock, cohereMock, replicateMock, knownPrediction }));
});

/**
 * Makes the client's key a new one: each test starts with nothing held, so a reservation one test leaks fails that
 * test and no other.
 */
async function useFreshApiKey(): Promise<void> {
  const { id, secret } = await singleFlightApiKey(tollgate, 'malformed upstream replies');
  apiKeyId = id;
  clientHeaders = { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
}

beforeEach(useFreshApiKey);

afterAll(async () => {
  await tollgate?.dispose();
  await Promise.all([openaiMock?.close(), azureMock?.close(), anthropicMock?.close(), googleMock?.close(), bedrockMock?.close(), cohereMock?.close(), replicateMock?.close()]);
});

function family(name: string): ReplyFamily {
  const found = families.find((entry) => entry.name === name);
  if (!found) throw new Error(`no family ${name}`);
  return found;
}

// --- The cases ------------------------------------------------------------------------------------------------

const familyNames = ['openai-compatible', 'openai (Responses)', 'anthropic', 'gemini', 'vertex (Gemini)', 'vertex (Claude)', 'bedrock', 'bedrock (Claude, Messages)', 'cohere', 'replicate', 'azure (Responses, v1)', 'azure (Claude)'];
const wrongTypes: Json[] = ['a string', 42, null, [1, 2, 3], {}];

describe.each(familyNames)('%s', (name) => {
  it('translates the valid reply, streamed and not, on every chat route', async () => {
    const target = family(name);
    for (const route of target.routes ?? chatRoutes) {
      const plain = await tryReply(target, false, json(target.completion), 'valid reply', route);
      expect(plain.status, plain.text).toBe(200);
      expect(plain.content, plain.text).toContain(target.expectedText);
      const streamed = await tryReply(target, true, { raw: target.encodeStream(target.stream) }, 'valid stream', route);
      expect(streamed.status, streamed.text).toBe(200);
      expect(streamed.content, streamed.text).toBe(target.expectedText);
    }
  });

  it('still serves a reply that is odd but usable: unknown members everywhere, nulls where values may be absent', async () => {
    const target = family(name);
    const body = clone(target.completion);
    for (const path of memberPaths(body)) {
      const { parent, key } = parentOf(body, path);
      const value = parent[key];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) value.some_new_member = { kind: 'future', values: [1, 'two'] };
    }
    body.some_new_member = 'future';
    const route = target.routes?.[0];
    const answer = await tryReply(target, false, json(body), 'unknown members', route);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.content, answer.text).toContain(target.expectedText);
    const events = clone(target.stream as unknown as Json) as unknown as ScriptedEvent[];
    for (const event of events) if (event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data)) event.data.some_new_member = [null, { a: 1 }];
    const streamed = await tryReply(target, true, { raw: target.encodeStream([...events, { event: 'some_new_event', data: { type: 'some_new_event' } }]) }, 'unknown members and events', route);
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.content, streamed.text).toBe(target.expectedText);
  });

  it('answers bodies that are not the reply with a 502 in the error shape', async () => {
    const target = family(name);
    const cases = notReplies(JSON.stringify(target.completion));
    for (const [label, reply] of cases) {
      for (const route of target.routes ?? chatRoutes) {
        const answer = await tryReply(target, false, reply, `${label} (${route})`, route);
        expect(answer.status, `${label}: ${answer.text}`).toBe(502);
      }
    }
  });

  it('answers required members of the wrong type with a 502, never a 500', async () => {
    const target = family(name);
    for (const path of target.requiredMembers) {
      for (const value of wrongTypes) {
        const body = clone(target.completion);
        setAt(body, path, clone(value));
        for (const route of target.routes ?? chatRoutes) {
          await tryReply(target, false, json(body), `${path.join('.')} = ${JSON.stringify(value)} (${route})`, route);
        }
      }
    }
  });

  it('meters token counts that are negative, infinite, strings or huge as unreported, and settles', async () => {
    const target = family(name);
    for (const path of target.usageCounts) {
      for (const number of ['-5', '1e999', '-1e999', '"12"', '1e300', '9007199254740993', '12.5']) {
        const answer = await tryReply(target, false, { raw: withRawNumber(target.completion, path, number) }, `${path.join('.')} = ${number}`, target.routes?.[0]);
        expect(answer.status === 200 || answer.status === 502, answer.text).toBe(true);
        if (answer.status === 200) expectSaneUsage(parseJson(answer.text)?.usage, answer.text);
      }
    }
    // Replicate's stream carries no counts: its follow-up read does (see below).
    if (name === 'replicate') return;
    const marker = 987_654_321;
    for (const number of ['-5', '1e999', '"12"', '1e300']) {
      const usage = target.streamUsage;
      const literal = JSON.parse(number) as Json;
      const binary = name === 'bedrock';
      // A number that JSON cannot carry (1e999) is spliced into the encoded text; frames are checksummed, so not there.
      if (binary && typeof literal === 'number' && !Number.isFinite(literal)) continue;
      const events = target.stream.map((event, index) => {
        if (index !== usage.event || event.data === null || typeof event.data !== 'object') return event;
        const data = clone(event.data);
        setAt(data, usage.path, binary ? literal : marker);
        return { ...event, data };
      });
      const encoded = target.encodeStream(events);
      const raw = typeof encoded === 'string' ? encoded.replace(String(marker), number) : encoded;
      const answer = await tryReply(target, true, { raw }, `stream usage ${usage.path.join('.')} = ${number}`, target.routes?.[0]);
      if (answer.status === 200) {
        for (const item of sseEvents(answer.text)) {
          const data = parseJson(item.data);
          if (data?.usage) expectSaneUsage(data.usage, answer.text);
        }
      }
    }
  });

  it('ends a stream cleanly whatever arrives: garbage, events of unexpected shape, a stream that stops half-way', async () => {
    const target = family(name);
    const bytes = Buffer.from(target.encodeStream(target.stream, false));
    // The last two events: Bedrock's usage (metadata) follows its end (messageStop), which a client needs.
    const withoutLast = target.encodeStream(target.stream.slice(0, -2), false);
    const halfway = target.encodeStream(target.stream.slice(0, Math.ceil(target.stream.length / 2)), false);
    const cases: Array<[string, RawReply]> = [
      ['an HTML page', { raw: '<html><body>upstream down</body></html>', contentType: 'text/html' }],
      ['an empty stream', { raw: '' }],
      ['garbage lines', { raw: 'garbage\n\nmore garbage\r\n\r\n\u0000\u0001\u0002\n\n' }],
      ['events that are not JSON', { raw: target.encodeStream(target.stream.map((event) => ({ ...event, data: '{not json' }))) }],
      ['events of unexpected shape', { raw: target.encodeStream(target.stream.map((event, index) => ({ ...event, data: clone(wrongTypes[index % wrongTypes.length]!) }))) }],
      ['a stream without its final events', { raw: withoutLast }],
      ['a stream that stops half-way', { raw: halfway }],
      ['a stream broken off half-way', { raw: bytes.subarray(0, Math.floor(bytes.length / 2)), cut: true }],
      ['a stream cut inside an event', { raw: bytes.subarray(0, Math.floor(bytes.length / 2) + 3) }],
    ];
    if (name === 'bedrock') {
      const frames = target.stream.map((event) => bedrockFrames([event]));
      const corrupt = frames.map((frame, index) => {
        if (index !== 2) return frame;
        const copy = Buffer.from(frame);
        copy[copy.length - 6] = copy[copy.length - 6]! ^ 0xff;
        return copy;
      });
      const badLength = Buffer.from(frames[0]!);
      badLength.writeUInt32BE(7, 0);
      cases.push(['a frame with a wrong checksum', { raw: Buffer.concat(corrupt) }], ['a frame with an impossible length', { raw: Buffer.concat([badLength, ...frames.slice(1)]) }]);
    }
    // What is certainly not a whole reply must not look like one: the client is told the stream failed.
    const incomplete = new Set(['an empty stream', 'garbage lines', 'events that are not JSON', 'a stream without its final events', 'a stream that stops half-way', 'a stream broken off half-way', 'a stream cut inside an event', 'a frame with a wrong checksum', 'a frame with an impossible length']);
    for (const [label, events] of target.oddStreams) cases.push([label, { raw: target.encodeStream(events) }]);
    for (const [label, reply] of cases) {
      for (const route of target.routes ?? chatRoutes) {
        const answer = await tryReply(target, true, reply, `${label} (${route})`, route);
        // Replicate's output events carry plain text, and its done event data it may not explain.
        const plainText = name === 'replicate' && label === 'events that are not JSON';
        if (answer.status === 200 && incomplete.has(label) && !plainText) expect(answer.text, label).not.toMatch(/data: \[DONE\]\n\n$|event: message_stop|event: response\.completed/);
      }
    }
  });
});

describe('Replicate follow-up reads', () => {
  it('settles when the prediction read after the stream is malformed', async () => {
    const target = family('replicate');
    const valid = { raw: target.encodeStream(target.stream) };
    const followUps: Array<[string, RawReply]> = [
      ['not JSON', { raw: '<html></html>', contentType: 'text/html' }],
      ['null', { raw: 'null' }],
      ['negative counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: -5, output_token_count: -1 } }))],
      ['string counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: '12', output_token_count: '7' } }))],
      ['huge counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: 1e300, output_token_count: 1e300 } }))],
      ['metrics of the wrong type', json(replicatePrediction('succeeded', { metrics: [1, 2] }))],
      ['an unknown status', json(replicatePrediction('exploded'))],
    ];
    for (const [label, followUp] of followUps) {
      const answer = await tryReply(target, true, valid, `follow-up ${label}`, '/v1/chat/completions', followUp);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.content).toBe(upstreamText);
    }
  });
});

describe('a seeded fuzz of upstream replies', () => {
  const rounds = 110;
  const targets = familyNames.flatMap((name, index) => [[name, false, index] as const, [name, true, index] as const]);

  it.each(targets)('%s (stream: %s): mutations of the valid reply get a sound answer and settle', async (name, stream, index) => {
    const target = family(name);
    const random = seededRandom(1_000 + index * 2 + (stream ? 1 : 0));
    const statuses = new Map<number, number>();
    for (let round = 0; round < rounds; round += 1) {
      // Half the rounds on the chat route, whose OpenAI-compatible streams are forwarded unparsed; the rest shared.
      const draw = random();
      const route: Route = target.routes?.[Math.floor(draw * target.routes.length)] ?? (draw < 0.25 ? '/v1/messages' : draw < 0.5 ? '/v1/responses' : '/v1/chat/completions');
      let followUp: RawReply | undefined;
      let mutation: { reply: RawReply; description: string };
      if (stream && name === 'replicate' && random() < 0.3) {
        // The prediction read after the stream's end carries the token counts: its reply is mutated instead.
        const read = clone(replicatePrediction('succeeded'));
        const description = mutateMember(read, random);
        mutation = { reply: { raw: target.encodeStream(target.stream) }, description: `follow-up read: ${description}` };
        followUp = json(read);
      } else {
        mutation = stream ? mutateStream(target, random) : mutateCompletion(target, random);
      }
      const answer = await tryReply(target, stream, mutation.reply, `round ${round} (${route}): ${mutation.description}`, route, followUp);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    // Both kinds of answer were exercised: mutations that stay usable, and refusals.
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
  });
});
