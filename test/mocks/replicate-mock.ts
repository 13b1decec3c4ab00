/**
 * A local stand-in for Replicate's HTTP API on 127.0.0.1: prediction creation for official models, deployments
 * and versions, `GET /v1/predictions/<id>` (polling), cancel, and the prediction event stream. It checks the
 * bearer token and required fields like Replicate (problem-details errors) and answers with prediction objects
 * whose `urls` point back at itself. A prediction can stay `processing` for a number of polls before it succeeds.
 *
 * Token counts follow the real API: `metrics.input_token_count` / `output_token_count` appear only on the settled
 * prediction (the recorded `starting` fixture has no metrics), and the event stream carries none: its `done`
 * event's data is `{}`. A streamed prediction's counts are read by a GET of it after `done`, which this mock answers.
 * `withholdMetrics(true)` makes settled predictions report no token counts, like models that do not count them.
 *
 * `holdCreations()` withholds the replies to create calls: the prediction exists from the moment the call arrives, as
 * on Replicate, which creates it on accepting the request, and a call whose connection closes meanwhile leaves it
 * running. A `Cancel-After` header is checked against Replicate's documented format (a duration of `h`, `m` and `s`
 * parts, or bare seconds; at least 5 seconds) and kept on the prediction's record (`deadlines`).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  EventCounter,
  formatServerSentEvent,
  onClientGone,
  sendCannedAsLabelled,
  sendEventStream,
  sendRaw,
  startMockServer,
  type OneOffBehavior,
  type RecordedRequest,
  type RecordingMock,
} from './mock-server.js';

export type { RecordedRequest } from './mock-server.js';

/** A behaviour for the next authenticated request (any route), instead of the default answer. */
export type MockBehavior = OneOffBehavior<{ streamEvents: Array<{ event?: string; data: unknown }>; failAfter?: number }>;

/** The running mock. */
export interface ReplicateMock extends RecordingMock<MockBehavior, RecordedRequest> {
  /** While true, predictions that settle get `metrics` without `input_token_count` / `output_token_count`. */
  withholdMetrics(withhold: boolean): void;
  /** Holds every `GET /v1/predictions/<id>` from now on unanswered, until `release()` answers them and stops holding. */
  holdPredictionReads(): { held(): number; release(): void };
  /**
   * Holds every create call from now on unanswered (its prediction already created), until `release()` answers them
   * with their predictions as they then stand and stops holding; `finished: true` lets the held runs succeed first.
   * `held()` names the predictions whose creation is held.
   */
  holdCreations(): { held(): string[]; release(options?: { finished?: boolean }): void };
  /** The `Cancel-After` header each prediction was created with, by prediction id. */
  readonly deadlines: ReadonlyMap<string, string>;
}

type Json = Record<string, unknown>;

interface StoredPrediction {
  prediction: Json;
  /** Output fragments the model "generates". */
  fragments: string[];
  /** The prompt's token count the settled prediction reports (words of the system prompt and prompt). */
  inputTokens: number;
  pollsLeft: number;
}

/**
 * Starts the mock on an ephemeral port. Accepted tokens default to `["test-replicate-key"]`; `processingPolls`
 * (default 0) is how many polls of a prediction answer `processing` before it is `succeeded`.
 */
export async function startReplicateMock(options: { apiKeys?: string[]; processingPolls?: number } = {}): Promise<ReplicateMock> {
  const apiKeys = new Set(options.apiKeys ?? ['test-replicate-key']);
  const processingPolls = options.processingPolls ?? 0;
  const requests: RecordedRequest[] = [];
  const queue: MockBehavior[] = [];
  const predictions = new Map<string, StoredPrediction>();
  const received = new EventCounter();
  const aborts = new EventCounter();
  let counter = 0;
  let baseUrl = '';
  let metricsWithheld = false;
  let heldReads: Array<() => void> | undefined;
  let heldCreations: Array<{ id: string; answer: (finished: boolean) => void }> | undefined;
  const deadlines = new Map<string, string>();

  const server = await startMockServer((request, response, { text: rawBody, json: body }) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';
    requests.push({ method, path, headers: request.headers, body, rawBody });
    received.happened();
    onClientGone(response, () => aborts.happened());

    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !apiKeys.has(token)) {
      return problem(response, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
    }
    const queued = queue.shift();
    if (queued) return play(queued, response);
    route(method, path, request.headers, body, response);
  });
  // Prediction objects carry URLs back to the mock, so the handlers read the address once it is known.
  baseUrl = server.baseUrl;

  function route(method: string, path: string, headers: IncomingHttpHeaders, body: unknown, response: ServerResponse): void {
    const create =
      /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(path) ?? /^\/v1\/deployments\/([^/]+)\/([^/]+)\/predictions$/.exec(path);
    if (method === 'POST' && (create || path === '/v1/predictions')) {
      const model = create ? `${decodeURIComponent(create[1]!)}/${decodeURIComponent(create[2]!)}` : undefined;
      return createPrediction(model, path === '/v1/predictions', headers, body, response);
    }
    const get = /^\/v1\/predictions\/([^/]+)$/.exec(path);
    if (method === 'GET' && get) {
      if (heldReads) return void heldReads.push(() => poll(get[1]!, response));
      return poll(get[1]!, response);
    }
    const cancel = /^\/v1\/predictions\/([^/]+)\/cancel$/.exec(path);
    if (method === 'POST' && cancel) return cancelPrediction(cancel[1]!, response);
    const stream = /^\/v1\/streams\/([^/]+)$/.exec(path);
    if (method === 'GET' && stream) return streamPrediction(stream[1]!, headers, response);
    problem(response, 404, 'Not found', 'The requested resource could not be found.');
  }

  function createPrediction(model: string | undefined, byVersion: boolean, headers: IncomingHttpHeaders, body: unknown, response: ServerResponse): void {
    if (body === undefined || typeof body !== 'object' || Array.isArray(body)) {
      return problem(response, 400, 'Invalid request', 'The request body must be a JSON object.');
    }
    const request = body as Json;
    const input = request.input as Json | undefined;
    const invalid: Array<{ type: string; field: string; description: string }> = [];
    if (input === undefined || typeof input !== 'object' || Array.isArray(input)) invalid.push({ type: 'required', field: 'input', description: 'input is required' });
    else if (typeof input.prompt !== 'string') invalid.push({ type: 'required', field: 'input.prompt', description: 'prompt is required' });
    if (byVersion && typeof request.version !== 'string') invalid.push({ type: 'required', field: 'version', description: 'version is required' });
    if (request.stream !== undefined && typeof request.stream !== 'boolean') invalid.push({ type: 'invalid_type', field: 'stream', description: 'stream must be a boolean' });
    const cancelAfter = headers['cancel-after'];
    if (cancelAfter !== undefined && !validDeadline(String(cancelAfter))) {
      return problem(response, 400, 'Invalid Cancel-After header', 'Cancel-After must be a duration such as 30s, 5m or 1h30m45s, of at least 5 seconds.');
    }
    if (invalid.length > 0) {
      return send(response, 422, {
        title: 'Input validation failed',
        detail: invalid.map((field) => `- ${field.description}`).join('\n'),
        status: 422,
        invalid_fields: invalid,
      }, 'application/problem+json');
    }

    counter += 1;
    const id = `mockpred${String(counter).padStart(18, '0')}`;
    const prompt = String(input!.prompt);
    const fragments = `Echo: ${prompt}`.split(/(?= )/);
    const inputWords = `${String(input!.system_prompt ?? '')} ${prompt}`.split(/\s+/).filter(Boolean).length;
    const prediction: Json = {
      id,
      model: model ?? 'replicate/versioned-model',
      version: byVersion ? request.version : 'dp-mock0000000000000000000000000000',
      input,
      logs: '',
      output: null,
      data_removed: false,
      error: null,
      status: 'starting',
      created_at: '2024-04-18T16:22:07.295Z',
      urls: {
        cancel: `${baseUrl}/v1/predictions/${id}/cancel`,
        get: `${baseUrl}/v1/predictions/${id}`,
        web: `https://replicate.com/p/${id}`,
        ...(request.stream === true ? { stream: `${baseUrl}/v1/streams/${id}` } : {}),
      },
    };
    const stored: StoredPrediction = { prediction, fragments, inputTokens: inputWords, pollsLeft: processingPolls };
    predictions.set(id, stored);
    if (cancelAfter !== undefined) deadlines.set(id, String(cancelAfter));
    // Sync mode returns the finished prediction when it is done within the wait; here that is "no polls needed".
    const waits = typeof headers.prefer === 'string' && /^wait(=\d+)?$/.test(headers.prefer);
    if (waits && processingPolls === 0 && request.stream !== true) succeed(stored, metricsWithheld);
    if (heldCreations) {
      return void heldCreations.push({
        id,
        answer(finished) {
          if (finished && (prediction.status === 'starting' || prediction.status === 'processing')) succeed(stored, metricsWithheld);
          send(response, 201, prediction);
        },
      });
    }
    send(response, 201, prediction);
  }

  function poll(id: string, response: ServerResponse): void {
    const stored = predictions.get(id);
    if (!stored) return problem(response, 404, 'Not found', 'The requested resource could not be found.');
    if (stored.prediction.status === 'starting' || stored.prediction.status === 'processing') {
      if (stored.pollsLeft > 0) {
        stored.pollsLeft -= 1;
        stored.prediction.status = 'processing';
        stored.prediction.started_at = '2024-04-18T16:22:07.302Z';
      } else {
        succeed(stored, metricsWithheld);
      }
    }
    send(response, 200, stored.prediction);
  }

  function cancelPrediction(id: string, response: ServerResponse): void {
    const stored = predictions.get(id);
    if (!stored) return problem(response, 404, 'Not found', 'The requested resource could not be found.');
    if (stored.prediction.status === 'starting' || stored.prediction.status === 'processing') {
      stored.prediction.status = 'canceled';
      stored.prediction.completed_at = '2024-04-18T16:22:09.000Z';
    }
    send(response, 200, stored.prediction);
  }

  function streamPrediction(id: string, headers: IncomingHttpHeaders, response: ServerResponse): void {
    const stored = predictions.get(id);
    if (!stored) return problem(response, 404, 'Not found', 'The requested resource could not be found.');
    if (!String(headers.accept ?? '').includes('text/event-stream')) {
      return problem(response, 406, 'Not acceptable', 'Streams are served as text/event-stream.');
    }
    succeed(stored, metricsWithheld);
    writeEvents(response, [
      ...stored.fragments.map((fragment) => ({ event: 'output', data: fragment })),
      { event: 'done', data: {} },
    ], undefined);
  }

  return {
    baseUrl,
    requests,
    enqueue: (behavior) => void queue.push(behavior),
    // Every call resolves once a first client has left, whatever left before: no test needs a count here.
    whenAborted: () => aborts.atLeast(1),
    withholdMetrics: (withhold) => void (metricsWithheld = withhold),
    holdPredictionReads() {
      const held: Array<() => void> = [];
      heldReads = held;
      return {
        held: () => held.length,
        release() {
          if (heldReads === held) heldReads = undefined;
          for (const answer of held.splice(0)) answer();
        },
      };
    },
    holdCreations() {
      const held: Array<{ id: string; answer: (finished: boolean) => void }> = [];
      heldCreations = held;
      return {
        held: () => held.map((creation) => creation.id),
        release(options = {}) {
          if (heldCreations === held) heldCreations = undefined;
          for (const creation of held.splice(0)) creation.answer(options.finished === true);
        },
      };
    },
    deadlines,
    whenRequested: (count) => received.atLeast(count),
    close: server.close,
  };
}

function succeed(stored: StoredPrediction, metricsWithheld: boolean): void {
  const prediction = stored.prediction;
  prediction.status = 'succeeded';
  prediction.output = stored.fragments;
  prediction.started_at ??= '2024-04-18T16:22:07.302Z';
  prediction.completed_at = '2024-04-18T16:22:07.816Z';
  prediction.metrics = metricsWithheld
    ? { predict_time: 0.5, total_time: 0.52 }
    : { input_token_count: stored.inputTokens, output_token_count: stored.fragments.length, predict_time: 0.5, total_time: 0.52 };
}

function play(behavior: MockBehavior, response: ServerResponse): void {
  if ('hang' in behavior) return;
  if ('streamEvents' in behavior) return writeEvents(response, behavior.streamEvents, behavior.failAfter);
  if ('raw' in behavior) return sendRaw(response, behavior);
  sendCannedAsLabelled(response, behavior, { 'content-type': 'application/json' });
}

/** Replicate's event ids are `<unix seconds>:<sequence>` (the docs' example stream); the seconds are fixed here. */
const STREAM_ID_SECONDS = 1690212292;

function writeEvents(response: ServerResponse, events: Array<{ event?: string; data: unknown }>, failAfter: number | undefined): void {
  // A failAfter past the last event cuts nothing: the stream ends normally.
  const cut = failAfter !== undefined && failAfter < events.length ? failAfter : undefined;
  // A multi-line text fragment travels as several data lines, which SSE joins back with newlines.
  const formatted = events.map((item, index) => formatServerSentEvent({ ...item, id: `${STREAM_ID_SECONDS}:${index}` }));
  sendEventStream(response, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, formatted, { failAfter: cut });
}

/** Replicate's documented `Cancel-After` format: `h`, `m` and `s` parts in that order, or bare seconds; at least 5 s. */
function validDeadline(value: string): boolean {
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  const seconds = /^\d+$/.test(value)
    ? Number(value)
    : parts && value !== ''
      ? Number(parts[1] ?? 0) * 3600 + Number(parts[2] ?? 0) * 60 + Number(parts[3] ?? 0)
      : undefined;
  return seconds !== undefined && seconds >= 5;
}

function problem(response: ServerResponse, status: number, title: string, detail: string): void {
  send(response, status, { title, detail, status }, 'application/problem+json');
}

function send(response: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  response.writeHead(status, { 'content-type': contentType });
  response.end(JSON.stringify(body));
}
