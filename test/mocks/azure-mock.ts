/**
 * A local stand-in for an Azure OpenAI resource and its Entra ID token endpoint.
 *
 * Data plane: `POST /openai/deployments/<deployment>/chat/completions|embeddings?api-version=<version>`, and Azure's
 * v1 API, `POST /openai/v1/chat/completions|embeddings|responses` (no api-version, or `preview`; the deployment named
 * by the body's `model`, which it requires). It checks the `api-version` query, the deployment (when `deployments` is
 * given), and auth: an `api-key` header from `apiKeys`, or `authorization: Bearer <token>` with a token its own token
 * endpoint issued. `/openai/v1/responses` answers as OpenAI's Responses API does (see `openai-responses-mock.ts`: its
 * parameter checks, Response object and event stream), with the deployment's model. It answers with
 * Azure's shapes: `prompt_filter_results` and `content_filter_results` on completions; streams open with an
 * annotation-only chunk (`choices: []`, empty `model`) and carry an annotation chunk without `delta` before the
 * finish chunk. A last user message containing `BLOCKME` gets the 400 `content_filter` error.
 *
 * Claude deployments (with `claude`): Anthropic's Messages API under `/anthropic` (`/anthropic/v1/messages`, as
 * Claude in Microsoft Foundry serves it), the deployment named by the body's `model`: the resource checks the
 * credential (an `x-api-key` from `apiKeys`, or a bearer token it issued; Azure's 401 otherwise) and the deployment,
 * and the Anthropic mock (`anthropic-mock.ts`) does the rest, its replies and refusals Anthropic's.
 *
 * Token endpoint: `POST /<tenant>/oauth2/v2.0/token`, form-encoded client credentials (the application's secret, or
 * a workload identity's federated token as its client assertion), validated against `entra`; each call is recorded in
 * `tokenRequests` so tests can count them. Managed identity endpoints: the instance metadata service's
 * `GET /metadata/identity/oauth2/token?api-version=2018-02-01` (with `Metadata: true`) and App Service's
 * `GET /msi/token?api-version=2019-08-01` (with `X-IDENTITY-HEADER`), each taking one `resource` and an optional
 * `client_id`: with it, they issue a token (`mock-managed-token-N`) to the user-assigned identity
 * `entra.managedClientId` only; without it, to the host's system-assigned identity (`mock-system-token-N`), when
 * `entra.systemAssignedClientId` says the host has one. An identity the host lacks is refused as each service does
 * (IMDS: 400 `Identity not found`; App Service: 400 `Unable to load the proper Managed Identity.`). Their calls are
 * recorded in `identityRequests`.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  EventCounter,
  formatServerSentEvent,
  jsonOrText,
  onClientGone,
  sendCannedAsLabelled,
  sendEventStream,
  sendRaw,
  startMockServer,
  type OneOffBehavior,
  type ReceivedBody,
} from './mock-server.js';
import { createAnthropicMockHandler, type AnthropicMockHandler } from './anthropic-mock.js';
import { checkResponsesBody, sendResponsesReply, writeResponsesEventStream } from './openai-responses-mock.js';

export interface AzureMockOptions {
  /** Accepted `api-key` values. */
  apiKeys?: string[];
  /** Known deployments (deployment name to model name); any deployment is accepted when absent. */
  deployments?: Record<string, string>;
  /** Accepted api-version values. */
  apiVersions?: string[];
  /** The Entra application the token endpoint recognises. */
  entra?: {
    tenantId: string;
    clientId: string;
    clientSecret: string;
    scope?: string;
    expiresInSeconds?: number;
    /** The workload identity's token, accepted as the client assertion of `clientId`. */
    federatedToken?: string;
    /** The user-assigned managed identity the managed identity endpoints know. */
    managedClientId?: string;
    /** The client id of the host's system-assigned identity, given a token request naming no identity; none when absent. */
    systemAssignedClientId?: string;
    /** The secret App Service's endpoint requires in `X-IDENTITY-HEADER`. */
    identityHeader?: string;
  };
  /** Serves Claude deployments under `/anthropic`. */
  claude?: boolean;
}

/** Replaces the answer to the next valid data-plane request. */
export type AzureMockBehavior = OneOffBehavior<{ streamChunks: unknown[]; failAfter?: number }>;

export interface RecordedAzureRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  deployment: string | undefined;
  apiVersion: string | null;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface AzureMock {
  /** The resource endpoint, and the authority host of the token endpoint. */
  baseUrl: string;
  requests: RecordedAzureRequest[];
  /** The form fields of every token request received. */
  tokenRequests: Array<Record<string, string>>;
  /** Tokens issued so far, in order. */
  issuedTokens: string[];
  /** The managed identity endpoints' requests: path and query as received, and their headers. */
  identityRequests: Array<{ url: string; headers: IncomingHttpHeaders }>;
  enqueue(behavior: AzureMockBehavior): void;
  /** What answers under `/anthropic` (with `claude`): its requests, and replies scripted for them. */
  claude: AnthropicMockHandler | undefined;
  nextRequest(): Promise<RecordedAzureRequest>;
  whenAborted(): Promise<void>;
  close(): Promise<void>;
}

export const AZURE_DEFAULT_SCOPE = 'https://cognitiveservices.azure.com/.default';
const MODEL = 'gpt-4o-2024-08-06';
const SAFE = { filtered: false, severity: 'safe' };
const FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { ...FILTER_RESULTS, jailbreak: { filtered: false, detected: false } } }];

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'apim-request-id': 'mock-apim', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function azureError(response: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(response, status, { error: { code, message, ...extra } }, { 'x-ms-error-code': code });
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string; content?: unknown }>) : [];
  const last = [...messages].reverse().find((message) => message.role === 'user');
  if (typeof last?.content === 'string') return last.content;
  if (Array.isArray(last?.content)) return last.content.map((part: { text?: string }) => part.text ?? '').join('');
  return '';
}

/** A deterministic embedding whose first component identifies the text. */
export function azureMockEmbedding(text: string, dimensions = 8): number[] {
  let seed = 0;
  for (const character of text) seed = (seed * 31 + character.charCodeAt(0)) % 9973;
  return Array.from({ length: dimensions }, (_, index) => ((seed + index * 17) % 100) / 100);
}

/** Starts the mock on 127.0.0.1 and an ephemeral port. */
export async function startAzureMock(options: AzureMockOptions = {}): Promise<AzureMock> {
  const requests: RecordedAzureRequest[] = [];
  const tokenRequests: Array<Record<string, string>> = [];
  const issuedTokens: string[] = [];
  const identityRequests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const queue: AzureMockBehavior[] = [];
  const requestWaiters: Array<(request: RecordedAzureRequest) => void> = [];
  const aborts = new EventCounter();
  const apiVersions = options.apiVersions ?? ['2024-10-21', '2024-06-01', '2025-01-01-preview'];
  const claude =
    options.claude === true
      ? createAnthropicMockHandler({ pathPrefix: '/anthropic', authorize: (credential) => (options.apiKeys ?? []).includes(credential) || issuedTokens.includes(credential) })
      : undefined;

  const handleToken = (request: IncomingMessage, response: ServerResponse, tenant: string, text: string): void => {
    const form = Object.fromEntries(new URLSearchParams(text));
    tokenRequests.push(form);
    const entra = options.entra;
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return sendJson(response, 400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must be form-encoded.' });
    }
    if (entra === undefined || tenant !== entra.tenantId) {
      return sendJson(response, 400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
    }
    if (form.grant_type !== 'client_credentials') {
      return sendJson(response, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: The grant type is not supported.' });
    }
    if (form.client_id !== entra.clientId) {
      return sendJson(response, 400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${form.client_id}' was not found.` });
    }
    if (form.client_assertion_type !== undefined) {
      if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || entra.federatedToken === undefined || form.client_assertion !== entra.federatedToken) {
        return sendJson(response, 400, { error: 'invalid_client', error_description: 'AADSTS700211: No matching federated identity record found for presented assertion issuer.' });
      }
    } else if (form.client_secret !== entra.clientSecret) {
      return sendJson(response, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    }
    if (form.scope !== (entra.scope ?? AZURE_DEFAULT_SCOPE)) {
      return sendJson(response, 400, { error: 'invalid_scope', error_description: `AADSTS70011: The provided value for scope ${form.scope} is not valid.` });
    }
    const token = `mock-entra-token-${issuedTokens.length + 1}`;
    issuedTokens.push(token);
    const expiresIn = entra.expiresInSeconds ?? 3599;
    sendJson(response, 200, { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
  };

  /** The instance metadata service (`imds`) or App Service's endpoint, issuing a token to the managed identity. */
  const handleManagedIdentity = (request: IncomingMessage, response: ServerResponse, url: URL, kind: 'imds' | 'app-service'): void => {
    identityRequests.push({ url: request.url ?? '', headers: request.headers });
    const entra = options.entra;
    if (kind === 'imds' && request.headers.metadata !== 'true') {
      return sendJson(response, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    }
    if (kind === 'app-service' && (entra?.identityHeader === undefined || request.headers['x-identity-header'] !== entra.identityHeader)) {
      return sendJson(response, 401, { statusCode: 401, message: 'Unauthorized request.' });
    }
    if (url.searchParams.get('api-version') !== (kind === 'imds' ? '2018-02-01' : '2019-08-01')) {
      return sendJson(response, 400, { error: 'invalid_request', error_description: 'Invalid api-version' });
    }
    const resource = url.searchParams.get('resource');
    if (resource !== (entra?.scope ?? AZURE_DEFAULT_SCOPE).replace(/\/\.default$/, '')) {
      return sendJson(response, 400, { error: 'invalid_resource', error_description: `AADSTS500011: The resource principal named ${resource} was not found.` });
    }
    // Without a client id both services answer for the host's system-assigned identity; with one, for that identity.
    const asked = url.searchParams.get('client_id');
    const identity = asked === null ? entra?.systemAssignedClientId : asked === entra?.managedClientId ? asked : undefined;
    if (entra === undefined || identity === undefined) {
      if (kind === 'app-service') return sendJson(response, 400, { statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: 'mock-correlation' });
      return sendJson(response, 400, { error: 'invalid_request', error_description: 'Identity not found' });
    }
    const token = `mock-${asked === null ? 'system' : 'managed'}-token-${issuedTokens.length + 1}`;
    issuedTokens.push(token);
    const lifetime = entra.expiresInSeconds ?? 86_399;
    const expiresOn = String(Math.floor(Date.now() / 1000) + lifetime);
    // IMDS gives the lifetime as a string beside the expiry; App Service's endpoint gives the expiry alone.
    const reply = kind === 'imds' ? { expires_in: String(lifetime), ext_expires_in: String(lifetime), not_before: String(Math.floor(Date.now() / 1000)) } : {};
    sendJson(response, 200, { access_token: token, client_id: identity, expires_on: expiresOn, resource, token_type: 'Bearer', ...reply });
  };

  let sequence = 0;
  const handle = (request: IncomingMessage, response: ServerResponse, received: ReceivedBody): void => {
    const url = new URL(request.url ?? '/', 'http://mock');
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (token !== null && request.method === 'POST') return handleToken(request, response, decodeURIComponent(token[1] ?? ''), received.text);
    if (url.pathname === '/metadata/identity/oauth2/token' && request.method === 'GET') return handleManagedIdentity(request, response, url, 'imds');
    if (url.pathname === '/msi/token' && request.method === 'GET') return handleManagedIdentity(request, response, url, 'app-service');

    const classic = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    const v1 = /^\/openai\/v1\/(chat\/completions|embeddings|responses)$/.exec(url.pathname);
    const operation = classic?.[2] ?? v1?.[1];
    const body = jsonOrText(received);
    // The v1 API names the deployment in the body's `model`; the classic API in the path.
    const bodyModel = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).model : undefined;
    const namedInBody = (v1 !== null || url.pathname.startsWith('/anthropic/')) && typeof bodyModel === 'string' ? bodyModel : undefined;
    const deployment = classic?.[1] !== undefined ? decodeURIComponent(classic[1]) : namedInBody;
    const recorded: RecordedAzureRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      deployment,
      apiVersion: url.searchParams.get('api-version'),
      headers: request.headers,
      body,
    };
    requests.push(recorded);
    for (const waiter of requestWaiters.splice(0)) waiter(recorded);

    // Claude's surface takes the key as Anthropic's API does (`x-api-key`); the OpenAI paths as `api-key`.
    const anthropicPath = claude !== undefined && url.pathname.startsWith('/anthropic/');
    const apiKey = request.headers[anthropicPath ? 'x-api-key' : 'api-key'];
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const authorized = (typeof apiKey === 'string' && (options.apiKeys ?? []).includes(apiKey)) || (bearer !== undefined && issuedTokens.includes(bearer));
    if (!authorized) {
      return azureError(response, 401, '401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
    }
    if (anthropicPath) {
      const deploymentName = typeof bodyModel === 'string' ? bodyModel : undefined;
      if (options.deployments !== undefined && deploymentName !== undefined && !(deploymentName in options.deployments)) {
        return azureError(response, 404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
      }
      return claude.handle(request, response, body);
    }
    if (operation === undefined || request.method !== 'POST') return azureError(response, 404, '404', 'Resource not found');
    if (classic !== null) {
      if (recorded.apiVersion === null) return azureError(response, 404, '404', 'Resource not found');
      if (!apiVersions.includes(recorded.apiVersion)) return azureError(response, 400, 'BadRequest', 'API version not supported');
    } else {
      // The v1 API takes no dated version: none (GA), or `preview` for its preview features.
      if (recorded.apiVersion !== null && recorded.apiVersion !== 'preview') return azureError(response, 400, 'BadRequest', 'API version not supported');
      if (deployment === undefined) return azureError(response, 400, 'BadRequest', "'model' is a required property");
    }
    if (options.deployments !== undefined && (deployment === undefined || !(deployment in options.deployments))) {
      return azureError(response, 404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
    }
    if (body === null || typeof body !== 'object') return azureError(response, 400, 'BadRequest', 'The request body is not valid JSON.');
    const json = body as Record<string, unknown>;
    const model = (deployment !== undefined ? options.deployments?.[deployment] : undefined) ?? MODEL;

    if (operation === 'responses') {
      const refusal = checkResponsesBody(json);
      if (refusal !== undefined) return sendJson(response, refusal.status, refusal.body);
      sequence += 1;
      const headers = { 'apim-request-id': 'mock-apim' };
      const scripted = queue.shift();
      if (scripted !== undefined) {
        if ('hang' in scripted) return onClientGone(response, () => aborts.happened());
        if ('streamChunks' in scripted) return writeResponsesEventStream(response, scripted.streamChunks, headers, scripted.failAfter);
        if ('raw' in scripted) return sendRaw(response, scripted, headers);
        return sendCannedAsLabelled(response, scripted, { 'content-type': 'application/json', ...headers });
      }
      // Azure answers with the deployment's model, not its name.
      return sendResponsesReply(response, { ...json, model }, sequence, headers);
    }
    if (operation === 'embeddings') {
      // A one-off reply scripted for an embeddings request (a stream script is a chat request's, left queued).
      const scripted = queue[0];
      if (scripted !== undefined && !('streamChunks' in scripted)) {
        queue.shift();
        if ('hang' in scripted) return onClientGone(response, () => aborts.happened());
        if ('raw' in scripted) return sendRaw(response, scripted, { 'apim-request-id': 'mock-apim' });
        return sendCannedAsLabelled(response, scripted, { 'content-type': 'application/json', 'apim-request-id': 'mock-apim' });
      }
      const inputs = typeof json.input === 'string' ? [json.input] : (json.input as unknown[]);
      if (!Array.isArray(inputs) || inputs.length === 0) return azureError(response, 400, 'BadRequest', "'input' is a required property");
      const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: azureMockEmbedding(String(input), (json.dimensions as number) ?? 8) }));
      const tokens = inputs.reduce<number>((sum, input) => sum + Math.ceil(String(input).length / 4), 0);
      return sendJson(response, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    }
    if (!Array.isArray(json.messages) || json.messages.length === 0) return azureError(response, 400, 'BadRequest', "'messages' is a required property");
    const prompt = lastUserText(json);
    if (prompt.includes('BLOCKME')) {
      return azureError(response, 400, 'content_filter', "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", {
        param: 'prompt',
        type: null,
        status: 400,
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { ...FILTER_RESULTS, violence: { filtered: true, severity: 'high' } } },
      });
    }

    const behavior = queue.shift();
    if (behavior !== undefined && 'hang' in behavior) return onClientGone(response, () => aborts.happened());
    if (behavior !== undefined && 'raw' in behavior) return sendRaw(response, behavior, { 'apim-request-id': 'mock-apim' });
    if (behavior !== undefined && 'status' in behavior) {
      return sendCannedAsLabelled(response, behavior, { 'content-type': 'application/json', 'apim-request-id': 'mock-apim' });
    }
    const content = `Echo: ${prompt}`;
    const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const base = { id: 'chatcmpl-azure-mock', created: 1_700_000_000, model, system_fingerprint: 'fp_mock' };
    if (json.stream !== true) {
      return sendJson(response, 200, {
        ...base,
        object: 'chat.completion',
        prompt_filter_results: PROMPT_FILTER_RESULTS,
        choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null }, content_filter_results: FILTER_RESULTS }],
        usage,
      });
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ ...base, object: 'chat.completion.chunk', choices, ...extra });
    const includeUsage = (json.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const chunks =
      behavior !== undefined && 'streamChunks' in behavior
        ? behavior.streamChunks
        : [
            { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER_RESULTS },
            chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null, content_filter_results: {} }]),
            ...content.split(/(?<= )/).map((word) => chunk([{ index: 0, delta: { content: word }, finish_reason: null, logprobs: null, content_filter_results: FILTER_RESULTS }])),
            chunk([{ index: 0, finish_reason: null, content_filter_results: FILTER_RESULTS, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: content.length } }]),
            chunk([{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }]),
            ...(includeUsage ? [chunk([], { usage })] : []),
          ];
    const failAfter = behavior !== undefined && 'streamChunks' in behavior ? behavior.failAfter : undefined;
    // A cut stream ends the socket gracefully: the client sees a body cut short rather than a reset.
    sendEventStream(response, { 'content-type': 'text/event-stream', 'apim-request-id': 'mock-apim' }, chunks.map((item) => formatServerSentEvent({ data: item })), {
      failAfter,
      closing: formatServerSentEvent({ data: '[DONE]' }),
      ending: 'end',
    });
  };

  const server = await startMockServer(handle);
  return {
    baseUrl: server.baseUrl,
    requests,
    tokenRequests,
    issuedTokens,
    identityRequests,
    enqueue: (behavior) => queue.push(behavior),
    claude,
    nextRequest: () => new Promise((resolve) => requestWaiters.push(resolve)),
    whenAborted: () => aborts.next(),
    close: server.close,
  };
}
