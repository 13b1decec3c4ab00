/**
 * A local stand-in for Google's generative APIs on 127.0.0.1, serving at once:
 * - the Gemini API (`/v1beta/models/<model>:generateContent|streamGenerateContent|batchEmbedContents`), checking
 *   `x-goog-api-key` (an unknown key gets Google's 400 API_KEY_INVALID);
 * - Vertex AI (`/v1/projects/<p>/locations/<l>/publishers/google/models/<m>:generateContent|streamGenerateContent|
 *   predict` and `/publishers/anthropic/models/<m>:rawPredict|streamRawPredict`), checking a bearer token it issued;
 * - an OAuth token endpoint (`/token`) that verifies the service account's RS256 JWT assertion, and, with
 *   `authorizedUser`, takes that user's refresh token (the refresh-token grant, client id and secret in the form);
 * - with `metadataServiceAccount`, the metadata server's token of the host's service account
 *   (`GET /computeMetadata/v1/instance/service-accounts/default/token`, which demands `Metadata-Flavor: Google`);
 * - with `federation`, workload identity federation: the Security Token Service's token exchange (`POST /v1/token`,
 *   checking every form field), IAM Credentials' generateAccessToken (`POST /v1/projects/-/serviceAccounts/<email>
 *   :generateAccessToken`, demanding a federated token as the bearer and a scope and lifetime in the body), and a
 *   subject token URL (`GET /subject-token`, text, or Azure IMDS's JSON with `?format=json`) demanding its headers.
 * It answers with Google's (and, for Claude, Anthropic's) real shapes. Tests can queue one-off behaviours.
 */
import { createVerify } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  EventCounter,
  formatServerSentEvent,
  sendCannedAsLabelled,
  sendEventStream,
  sendRaw,
  startMockServer,
  type OneOffBehavior,
  type RecordedRequest as ReceivedRequest,
} from './mock-server.js';
import { sigV4Problem } from './sigv4-verification.js';

/** One request as the mock received it (the token endpoint's form is in `rawBody`). */
export interface RecordedRequest extends ReceivedRequest {
  /** The query string, without its `?`. */
  query: string;
}

/**
 * A behaviour for the next authenticated model request, instead of the default answer. Stream records are
 * written as `data: <json>`; a record shaped `{event, data}` is written with its `event:` line (Anthropic).
 */
export type GoogleMockBehavior = OneOffBehavior<{ streamRecords: unknown[]; failAfter?: number }>;

export interface GoogleMock {
  baseUrl: string;
  /** The token endpoint; service-account JSON built by tests points its `token_uri` here. */
  tokenUrl: string;
  /** The Security Token Service's exchange endpoint, for an external_account file's `token_url`. */
  stsUrl: string;
  /** The subject token URL, for an external_account file's `credential_source.url`. */
  subjectTokenUrl: string;
  /** generateAccessToken's URL for a service account, for an external_account file's `service_account_impersonation_url`. */
  impersonationUrl(serviceAccount: string): string;
  /** How many token requests arrived (valid or not). */
  readonly tokenRequests: number;
  requests: RecordedRequest[];
  enqueue(behavior: GoogleMockBehavior): void;
  close(): Promise<void>;
  /** Resolves once a client has closed a connection before its response was complete. */
  whenAborted(): Promise<void>;
  /** Resolves with the next request the mock receives (after its body was read). */
  nextRequest(): Promise<RecordedRequest>;
}

export interface GoogleMockOptions {
  /** Gemini API keys accepted; default `["test-gemini-key"]`. */
  apiKeys?: string[];
  /** The service account's public key; without one every token request is refused. */
  serviceAccountPublicKeyPem?: string;
  /** `expires_in` of issued tokens; default 3599. */
  tokenLifetimeSeconds?: number;
  /** The host's service account, whose tokens the metadata server path issues; without one that path is a 404. */
  metadataServiceAccount?: string;
  /** The one user whose refresh token the token endpoint takes (its OAuth client's id and secret); without one, none. */
  authorizedUser?: { clientId: string; clientSecret: string; refreshToken: string };
  /** Workload identity federation; without it the STS, generateAccessToken and subject token paths are 404s. */
  federation?: FederationOptions;
  /** Google's clock, for the `expireTime` generateAccessToken answers with; default the system's. */
  now?: () => number;
}

/** The workload identity pool provider the mock plays, and the service account its identities may impersonate. */
export interface FederationOptions {
  /** The pool provider's full name, which the exchange's `audience` must be. */
  audience: string;
  /** The token type the provider takes, e.g. `urn:ietf:params:oauth:token-type:jwt`. */
  subjectTokenType: string;
  /** The subject token the provider trusts (and the subject token URL hands out). */
  subjectToken: string;
  /** The service account federated identities may impersonate; any other is PERMISSION_DENIED. */
  serviceAccount: string;
  /** Headers the subject token URL demands (lower-case names), as Azure's IMDS demands `Metadata: True`. */
  subjectTokenHeaders?: Record<string, string>;
  /**
   * A second pool provider, of AWS's kind: its subject token is a signed GetCallerIdentity request, which the mock
   * checks as STS and AWS would (the request, its target-resource header, the signature made with these credentials
   * for this region) instead of comparing it with a known token.
   */
  aws?: { audience: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
}

type Json = Record<string, unknown>;

const GEMINI_PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|countTokens)$/;
const VERTEX_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(\w+)$/;
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const AWS_SUBJECT_TOKEN_TYPE = 'urn:ietf:params:aws:token-type:aws4_request';
const IMPERSONATION_PATH = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/;
/** Schema keywords Google's OpenAPI subset refuses with 400 "Unknown name". */
const REFUSED_SCHEMA_KEYWORDS = ['additionalProperties', '$schema', '$ref', '$defs', 'oneOf', 'const'];

function googleError(code: number, status: string, message: string, details?: Json[]): Json {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

/** Starts the mock on an ephemeral port. */
export async function startGoogleMock(options: GoogleMockOptions = {}): Promise<GoogleMock> {
  const apiKeys = new Set(options.apiKeys ?? ['test-gemini-key']);
  const issuedTokens = new Set<string>();
  // Federated tokens from STS, the only bearers generateAccessToken takes.
  const federatedTokens = new Set<string>();
  const requests: RecordedRequest[] = [];
  const queue: GoogleMockBehavior[] = [];
  let tokenRequests = 0;
  let counter = 0;
  const aborts = new EventCounter();
  let tokenUrl = '';
  let waiters: Array<(recorded: RecordedRequest) => void> = [];

  const server = await startMockServer((request, response, { text: rawBody, json: body }) => {
    const [path = '/', query = ''] = (request.url ?? '/').split('?');
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path, query, headers: request.headers, body, rawBody };
    requests.push(recorded);
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve(recorded);
    // Unlike the other mocks, a stream this mock cuts (failAfter) counts as an abort too.
    response.on('close', () => {
      if (!response.writableFinished) aborts.happened();
    });
    if (request.method === 'POST' && path === '/token') return handleToken(rawBody, response);
    const federation = options.federation;
    if (federation !== undefined) {
      if (request.method === 'POST' && path === '/v1/token') return handleExchange(federation, request.headers['content-type'], rawBody, response);
      const impersonated = IMPERSONATION_PATH.exec(path);
      if (request.method === 'POST' && impersonated) return handleImpersonation(federation, decodeURIComponent(impersonated[1]!), request.headers.authorization, body, response);
      if (request.method === 'GET' && path === '/subject-token') return handleSubjectToken(federation, request.headers, query, response);
    }
    if (request.method === 'GET' && path === '/computeMetadata/v1/instance/service-accounts/default/token' && options.metadataServiceAccount !== undefined) {
      // The metadata server answers only requests that say they mean it (the header a browser cannot be made to send).
      if (request.headers['metadata-flavor'] !== 'Google') return send(response, 403, 'Missing Metadata-Flavor:Google header.');
      tokenRequests += 1;
      const token = `ya29.metadata-${tokenRequests}-${options.metadataServiceAccount}`;
      issuedTokens.add(token);
      return send(response, 200, { access_token: token, expires_in: options.tokenLifetimeSeconds ?? 3599, token_type: 'Bearer' });
    }

    const gemini = GEMINI_PATH.exec(path);
    const vertex = VERTEX_PATH.exec(path);
    if (request.method !== 'POST' || (!gemini && !vertex)) {
      return send(response, 404, googleError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`));
    }
    if (gemini) {
      const key = request.headers['x-goog-api-key'];
      if (typeof key !== 'string' || key === '') {
        return send(response, 403, googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers. Please use API Key."));
      }
      if (!apiKeys.has(key)) {
        return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
        ]));
      }
    } else {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (token === undefined || !issuedTokens.has(token)) {
        return send(response, 401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.'));
      }
    }
    const queued = queue.shift();
    if (queued) return play(queued, response);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
    }
    if (gemini) return answerGemini(gemini[1]!, gemini[2]!, query, body as Json, response);
    return answerVertex(vertex![4]!, vertex![3]!, vertex![5]!, query, body as Json, response);
  });

  function handleToken(rawBody: string, response: ServerResponse): void {
    tokenRequests += 1;
    const form = new URLSearchParams(rawBody);
    const refuse = (description: string): void => send(response, 400, { error: 'invalid_grant', error_description: description });
    if (form.get('grant_type') === 'refresh_token') return handleRefresh(form, response);
    if (form.get('grant_type') !== JWT_BEARER_GRANT) return send(response, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3 || !options.serviceAccountPublicKeyPem) return refuse('Invalid JWT.');
    const [headerText, claimsText, signature] = parts as [string, string, string];
    let header: Json;
    let claims: Json;
    try {
      header = JSON.parse(Buffer.from(headerText, 'base64url').toString('utf8')) as Json;
      claims = JSON.parse(Buffer.from(claimsText, 'base64url').toString('utf8')) as Json;
    } catch {
      return refuse('Invalid JWT.');
    }
    if (header.alg !== 'RS256' || header.typ !== 'JWT' || typeof header.kid !== 'string') return refuse('Invalid JWT header.');
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${headerText}.${claimsText}`);
    if (!verifier.verify(options.serviceAccountPublicKeyPem, Buffer.from(signature, 'base64url'))) return refuse('Invalid JWT Signature.');
    if (typeof claims.iss !== 'string' || !claims.iss.includes('@')) return refuse('Invalid email or User ID');
    if (claims.aud !== tokenUrl) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(CLOUD_PLATFORM_SCOPE)) return refuse('Invalid OAuth scope or ID token audience provided.');
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat || exp - iat > 3600) {
      return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    const token = `ya29.mock-${tokenRequests}-${claims.iss}`;
    issuedTokens.add(token);
    send(response, 200, { access_token: token, expires_in: options.tokenLifetimeSeconds ?? 3599, token_type: 'Bearer' });
  }

  /**
   * The refresh-token grant, as Google's token endpoint answers it: an unknown client is 401 invalid_client, a wrong
   * secret 401 too, an unknown (revoked, expired) refresh token 400 invalid_grant.
   */
  function handleRefresh(form: URLSearchParams, response: ServerResponse): void {
    const user = options.authorizedUser;
    if (user === undefined || form.get('client_id') !== user.clientId) {
      return send(response, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    }
    if (form.get('client_secret') !== user.clientSecret) return send(response, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
    if (form.get('refresh_token') !== user.refreshToken) return send(response, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const token = `ya29.user-${tokenRequests}-${user.clientId}`;
    issuedTokens.add(token);
    send(response, 200, { access_token: token, expires_in: options.tokenLifetimeSeconds ?? 3599, scope: `${CLOUD_PLATFORM_SCOPE} openid`, token_type: 'Bearer' });
  }

  /**
   * STS's token exchange (RFC 8693): a form with the token-exchange grant, the pool provider as audience, an access
   * token requested, and the subject token of the type the provider takes. Answers as STS does: invalid_request for
   * a malformed exchange, invalid_grant for a token or audience the provider does not accept.
   */
  function handleExchange(federation: FederationOptions, contentType: string | undefined, rawBody: string, response: ServerResponse): void {
    tokenRequests += 1;
    const refuse = (status: number, error: string, description: string): void => send(response, status, { error, error_description: description });
    if (!contentType?.startsWith('application/x-www-form-urlencoded')) return refuse(400, 'invalid_request', 'Request must be application/x-www-form-urlencoded.');
    const form = new URLSearchParams(rawBody);
    if (form.get('grant_type') !== TOKEN_EXCHANGE_GRANT) return refuse(400, 'unsupported_grant_type', `Unsupported grant_type: ${form.get('grant_type') ?? ''}`);
    if (form.get('requested_token_type') !== ACCESS_TOKEN_TYPE) return refuse(400, 'invalid_request', 'Invalid value for "requested_token_type".');
    if (!(form.get('scope') ?? '').split(' ').includes(CLOUD_PLATFORM_SCOPE)) return refuse(400, 'invalid_scope', 'The scope must include https://www.googleapis.com/auth/cloud-platform.');
    const aws = form.get('subject_token_type') === AWS_SUBJECT_TOKEN_TYPE ? federation.aws : undefined;
    if (aws === undefined && form.get('subject_token_type') !== federation.subjectTokenType) return refuse(400, 'invalid_request', 'Invalid value for "subject_token_type".');
    if (form.get('audience') !== (aws?.audience ?? federation.audience)) return refuse(400, 'invalid_grant', 'The audience in the subject token does not match the expected audience.');
    const exchangeOptions = form.get('options');
    if (exchangeOptions !== null) {
      try {
        JSON.parse(exchangeOptions);
      } catch {
        return refuse(400, 'invalid_request', 'Invalid value for "options".');
      }
    }
    if (aws !== undefined) {
      const problem = awsSubjectTokenProblem(form.get('subject_token') ?? '', aws);
      if (problem !== undefined) return refuse(400, 'invalid_grant', problem);
    } else if (form.get('subject_token') !== federation.subjectToken) return refuse(400, 'invalid_grant', 'The provided subject token is invalid or expired.');
    const token = `ya29.sts-${tokenRequests}`;
    federatedTokens.add(token);
    issuedTokens.add(token);
    send(response, 200, { access_token: token, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: options.tokenLifetimeSeconds ?? 3599 });
  }

  /**
   * IAM Credentials' generateAccessToken: a federated token as the bearer (else 401 UNAUTHENTICATED), the one
   * service account federated identities may impersonate (else 403 PERMISSION_DENIED), and a body with at least one
   * scope and a lifetime of at most an hour written as seconds (`"3600s"`), else 400 INVALID_ARGUMENT.
   */
  function handleImpersonation(federation: FederationOptions, account: string, authorization: string | undefined, body: unknown, response: ServerResponse): void {
    tokenRequests += 1;
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (bearer === undefined || !federatedTokens.has(bearer)) {
      return send(response, 401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'));
    }
    if (account !== federation.serviceAccount) {
      return send(response, 403, googleError(403, 'PERMISSION_DENIED', "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."));
    }
    const request = (body ?? {}) as Json;
    const scope = request.scope;
    if (!Array.isArray(scope) || scope.length === 0 || scope.some((entry) => typeof entry !== 'string')) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'));
    }
    const lifetime = /^(\d+)s$/.exec(typeof request.lifetime === 'string' ? request.lifetime : '');
    if (request.lifetime !== undefined && (lifetime === null || Number(lifetime[1]) > 3600)) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'The lifetime must be at most 3600 seconds.'));
    }
    const token = `ya29.impersonated-${tokenRequests}-${account}`;
    issuedTokens.add(token);
    const seconds = lifetime ? Number(lifetime[1]) : 3600;
    send(response, 200, { accessToken: token, expireTime: new Date((options.now ?? Date.now)() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }

  /**
   * A local identity provider's token endpoint, as Azure's IMDS answers one: the headers it demands (else 400
   * invalid_request), the token as text, or with `format=json` in IMDS's JSON under `access_token`.
   */
  function handleSubjectToken(federation: FederationOptions, headers: IncomingHttpHeaders, query: string, response: ServerResponse): void {
    for (const [name, value] of Object.entries(federation.subjectTokenHeaders ?? {})) {
      if (headers[name] !== value) return send(response, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    }
    if (new URLSearchParams(query).get('format') !== 'json') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      return void response.end(federation.subjectToken);
    }
    send(response, 200, { access_token: federation.subjectToken, expires_in: '86399', resource: federation.audience, token_type: 'Bearer' });
  }

  function answerGemini(model: string, method: string, query: string, body: Json, response: ServerResponse): void {
    if (method === 'batchEmbedContents') return answerBatchEmbed(model, body, response);
    if (method === 'countTokens') return answerCountTokens(model, body, response, false);
    if (method === 'streamGenerateContent' && !new URLSearchParams(query).has('alt')) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'This mock streams only with alt=sse.'));
    }
    answerGenerate(model, method === 'streamGenerateContent', body, false, response);
  }

  function answerVertex(model: string, publisher: string, method: string, query: string, body: Json, response: ServerResponse): void {
    if (publisher === 'anthropic') {
      if (model === 'count-tokens' && method === 'rawPredict') return answerClaudeCount(body, response);
      if (method !== 'rawPredict' && method !== 'streamRawPredict') return send(response, 404, googleError(404, 'NOT_FOUND', `Unknown method ${method}.`));
      return answerClaude(model, method === 'streamRawPredict', body, response);
    }
    if (method === 'predict') return answerPredict(model, body, response);
    if (method === 'countTokens') return answerCountTokens(model, body, response, true);
    if (method === 'generateContent') return answerGenerate(model, false, body, true, response);
    if (method === 'streamGenerateContent' && new URLSearchParams(query).get('alt') === 'sse') return answerGenerate(model, true, body, true, response);
    send(response, 400, googleError(400, 'INVALID_ARGUMENT', `Unsupported method ${method} (streams need alt=sse).`));
  }

  /**
   * `:countTokens`. The Gemini API takes a whole `generateContentRequest` (its model must be the one in the path),
   * or `contents` alone, not both; Vertex takes the request's members directly and refuses members its
   * CountTokensRequest does not have (toolConfig, safetySettings). Counts as this mock's generateContent reports
   * its prompt: a token per four characters of the contents' JSON, here with the system instruction and tools added.
   */
  function answerCountTokens(model: string, body: Json, response: ServerResponse, vertex: boolean): void {
    if (vertex) {
      const unknown = Object.keys(body).filter((key) => !['model', 'instances', 'contents', 'systemInstruction', 'tools', 'generationConfig'].includes(key));
      if (unknown.length > 0) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${unknown[0]}": Cannot find field.`));
    }
    const request = vertex ? undefined : (body.generateContentRequest as Json | undefined);
    if (request !== undefined && body.contents !== undefined) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'Only one of contents or generateContentRequest may be set.'));
    }
    const counted = request ?? body;
    if (request !== undefined && request.model !== `models/${model}`) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', `generateContentRequest.model must be models/${model}.`));
    }
    const problem = validateGenerate(counted, vertex);
    if (problem) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', problem));
    const text = JSON.stringify(counted.contents) + JSON.stringify(counted.systemInstruction ?? '') + JSON.stringify(counted.tools ?? '');
    const totalTokens = Math.ceil(text.length / 4);
    send(response, 200, { totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] });
  }

  function answerGenerate(model: string, stream: boolean, body: Json, vertex: boolean, response: ServerResponse): void {
    const problem = validateGenerate(body, vertex);
    if (problem) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', problem));
    counter += 1;
    const responseId = `mock-response-${counter}`;
    const contents = body.contents as Array<{ role?: string; parts: Json[] }>;
    const lastParts = contents[contents.length - 1]!.parts;
    const declarations = ((body.tools as Json[] | undefined) ?? []).flatMap((tool) => (tool.functionDeclarations as Json[] | undefined) ?? []);
    const callingConfig = ((body.toolConfig as Json | undefined)?.functionCallingConfig ?? {}) as Json;
    const promptTokenCount = Math.ceil(JSON.stringify(body.contents).length / 4);
    const usage = (candidates: number): Json => ({ promptTokenCount, candidatesTokenCount: candidates, totalTokenCount: promptTokenCount + candidates });
    const record = (parts: Json[], finishReason?: string, usageMetadata?: Json): Json => ({
      candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 }],
      ...(usageMetadata ? { usageMetadata } : {}),
      modelVersion: model,
      responseId,
    });

    const answeredTool = lastParts.some((part) => part.functionResponse);
    if (declarations.length > 0 && callingConfig.mode !== 'NONE' && !answeredTool) {
      const allowed = callingConfig.allowedFunctionNames as string[] | undefined;
      const declaration = declarations.find((entry) => !allowed || allowed.includes(entry.name as string)) ?? declarations[0]!;
      const required = (((declaration.parameters as Json | undefined)?.required as string[] | undefined) ?? []);
      const call = { functionCall: { name: declaration.name, args: Object.fromEntries(required.map((name) => [name, 'Paris'])) }, thoughtSignature: 'bW9jay1zaWduYXR1cmU=' };
      const final = record([call], 'STOP', usage(12));
      return stream ? writeRecords(response, [final], undefined) : send(response, 200, final);
    }
    const toolResult = lastParts.find((part) => part.functionResponse)?.functionResponse as Json | undefined;
    const lastText = lastParts.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
    const text = toolResult ? `The tool said: ${JSON.stringify(toolResult.response)}` : `You said: ${lastText}`;
    const words = text.split(/(?= )/);
    if (!stream) return send(response, 200, record([{ text }], 'STOP', usage(words.length)));
    const records = words.map((word, index) =>
      index === words.length - 1 ? record([{ text: word }], 'STOP', usage(words.length)) : record([{ text: word }], undefined, { promptTokenCount, totalTokenCount: promptTokenCount }),
    );
    writeRecords(response, records, undefined);
  }

  function answerBatchEmbed(model: string, body: Json, response: ServerResponse): void {
    const entries = body.requests;
    if (!Array.isArray(entries) || entries.length === 0) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: must not be empty'));
    if (entries.length > 100) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'at most 100 requests can be in one batch'));
    const embeddings: Json[] = [];
    for (const [index, entry] of (entries as Json[]).entries()) {
      if (entry.model !== `models/${model}`) {
        return send(response, 400, googleError(400, 'INVALID_ARGUMENT', `Model name in request[${index}] must match the model in the URL.`));
      }
      const text = ((entry.content as Json | undefined)?.parts as Json[] | undefined)?.map((part) => part.text).join('');
      if (typeof text !== 'string' || text === '') return send(response, 400, googleError(400, 'INVALID_ARGUMENT', `* requests[${index}].content: must not be empty`));
      embeddings.push({ values: vector(text, index, entry.outputDimensionality) });
    }
    send(response, 200, { embeddings });
  }

  function answerPredict(model: string, body: Json, response: ServerResponse): void {
    const instances = body.instances;
    if (!Array.isArray(instances) || instances.length === 0) return send(response, 400, googleError(400, 'INVALID_ARGUMENT', 'instances must not be empty'));
    if (model.startsWith('gemini-embedding') && instances.length > 1) {
      return send(response, 400, googleError(400, 'INVALID_ARGUMENT', `Unable to submit request because ${model} only supports one instance per request.`));
    }
    const dimension = (body.parameters as Json | undefined)?.outputDimensionality;
    const predictions = (instances as Json[]).map((instance, index) => {
      const text = String(instance.content ?? '');
      return { embeddings: { values: vector(text, index, dimension), statistics: { token_count: text.split(/\s+/).filter(Boolean).length, truncated: false } } };
    });
    send(response, 200, { predictions, metadata: { billableCharacterCount: 0 } });
  }

  /**
   * Claude's `count-tokens:rawPredict`: one address for every Claude model, which the body names (with its `@`
   * version), beside the Vertex `anthropic_version`; the Messages body without `max_tokens`. Counts a token per
   * four characters of the messages', system prompt's and tools' JSON.
   */
  function answerClaudeCount(body: Json, response: ServerResponse): void {
    const problem =
      typeof body.model !== 'string' || !/^claude-[\w.-]+@\d{8}$/.test(body.model) ? 'model: a Claude model id with its @version is required'
      : body.anthropic_version !== 'vertex-2023-10-16' ? 'anthropic_version: must be vertex-2023-10-16'
      : body.max_tokens !== undefined ? 'max_tokens: Extra inputs are not permitted'
      : body.stream !== undefined ? 'stream: Extra inputs are not permitted'
      : !Array.isArray(body.messages) || body.messages.length === 0 ? 'messages: at least one message is required'
      : undefined;
    if (problem) return send(response, 400, { type: 'error', error: { type: 'invalid_request_error', message: problem } });
    const text = JSON.stringify(body.messages) + JSON.stringify(body.system ?? '') + JSON.stringify(body.tools ?? '');
    send(response, 200, { input_tokens: Math.ceil(text.length / 4) });
  }

  function answerClaude(model: string, stream: boolean, body: Json, response: ServerResponse): void {
    const problem =
      'model' in body ? 'model: Extra inputs are not permitted'
      : body.anthropic_version !== 'vertex-2023-10-16' ? 'anthropic_version: must be vertex-2023-10-16'
      : typeof body.max_tokens !== 'number' ? 'max_tokens: Field required'
      : !Array.isArray(body.messages) || body.messages.length === 0 ? 'messages: at least one message is required'
      : stream !== (body.stream === true) ? 'stream must be true exactly for streamRawPredict'
      : undefined;
    if (problem) return send(response, 400, { type: 'error', error: { type: 'invalid_request_error', message: problem } });
    counter += 1;
    const id = `msg_vrtx_${String(counter).padStart(6, '0')}`;
    const last = (body.messages as Json[])[(body.messages as Json[]).length - 1]!;
    const lastText = typeof last.content === 'string' ? last.content : ((last.content as Json[]) ?? []).map((block) => (typeof block.text === 'string' ? block.text : '')).join('');
    const text = `Claude heard: ${lastText}`;
    const usage = { input_tokens: Math.ceil(JSON.stringify(body.messages).length / 4), output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = { id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage };
    if (!stream) return send(response, 200, message);
    const event = (name: string, data: Json): Json => ({ event: name, data: { type: name, ...data } });
    writeRecords(response, [
      event('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
      ...text.split(/(?= )/).map((word) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } })),
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }),
      event('message_stop', {}),
    ], undefined);
  }

  const baseUrl = server.baseUrl;
  tokenUrl = `${baseUrl}/token`;
  return {
    baseUrl,
    tokenUrl,
    stsUrl: `${baseUrl}/v1/token`,
    subjectTokenUrl: `${baseUrl}/subject-token`,
    impersonationUrl: (serviceAccount) => `${baseUrl}/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`,
    get tokenRequests() {
      return tokenRequests;
    },
    requests,
    enqueue: (behavior) => void queue.push(behavior),
    // Every call resolves once a first client has left, whatever left before: no test needs a count here.
    whenAborted: () => aborts.atLeast(1),
    nextRequest: () => new Promise<RecordedRequest>((resolve) => waiters.push(resolve)),
    close: server.close,
  };
}

/** Checks what Google checks on a generateContent body; returns the error message or undefined. */
function validateGenerate(body: Json, vertex: boolean): string | undefined {
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [index, content] of (contents as Json[]).entries()) {
    const role = content.role;
    if (role === undefined ? vertex : role !== 'user' && role !== 'model') return `Please use a valid role: user, model. (contents[${index}])`;
    const parts = content.parts;
    if (!Array.isArray(parts) || parts.length === 0) return `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.`;
    for (const part of parts as Json[]) {
      const kinds = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'].filter((kind) => kind in part);
      if (kinds.length !== 1) return `* GenerateContentRequest.contents[${index}].parts: each part holds exactly one kind of data`;
      if (part.functionResponse && typeof (part.functionResponse as Json).name !== 'string') return `contents[${index}]: functionResponse.name is required`;
    }
  }
  const schemas = ((body.tools as Json[] | undefined) ?? []).flatMap((tool) => ((tool.functionDeclarations as Json[] | undefined) ?? []).map((entry) => entry.parameters));
  schemas.push((body.generationConfig as Json | undefined)?.responseSchema);
  for (const schema of schemas) {
    const refused = findKeyword(schema);
    if (refused) return `Invalid JSON payload received. Unknown name "${refused}": Cannot find field.`;
  }
  return undefined;
}

function findKeyword(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.map(findKeyword).find(Boolean);
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (REFUSED_SCHEMA_KEYWORDS.includes(key)) return key;
    const found = key === 'enum' || key === 'required' ? undefined : findKeyword(child);
    if (found) return found;
  }
  return undefined;
}

/** A deterministic vector: [text length, input index, 0.5, ...]. */
function vector(text: string, index: number, dimension: unknown): number[] {
  const size = typeof dimension === 'number' ? dimension : 4;
  return Array.from({ length: size }, (_, position) => (position === 0 ? text.length : position === 1 ? index : 0.5));
}

function play(behavior: GoogleMockBehavior, response: ServerResponse): void {
  if ('hang' in behavior) return;
  if ('streamRecords' in behavior) return writeRecords(response, behavior.streamRecords, behavior.failAfter);
  if ('raw' in behavior) return sendRaw(response, behavior);
  sendCannedAsLabelled(response, behavior, { 'content-type': 'application/json; charset=UTF-8' });
}

/** Writes SSE records with Google's CRLF framing; with `failAfter`, drops the connection after that many records. */
function writeRecords(response: ServerResponse, records: unknown[], failAfter: number | undefined): void {
  const events = records.map((record) => {
    const named = record !== null && typeof record === 'object' && 'event' in record && 'data' in record;
    // Google sends every record as JSON, strings included.
    return named
      ? formatServerSentEvent({ event: String((record as { event: unknown }).event), data: JSON.stringify((record as { data: unknown }).data) }, '\r\n')
      : formatServerSentEvent({ data: JSON.stringify(record) }, '\r\n');
  });
  sendEventStream(response, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, events, { failAfter });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

/**
 * What STS would say of an AWS subject token: the URL-encoded JSON of a POST to the regional GetCallerIdentity
 * endpoint whose headers carry the pool provider as `x-goog-cloud-target-resource`, signed (that header too) with
 * the credentials AWS knows, for the region of the endpoint. Undefined when AWS would confirm the caller.
 */
function awsSubjectTokenProblem(subjectToken: string, aws: NonNullable<FederationOptions['aws']>): string | undefined {
  let request: { url?: unknown; method?: unknown; headers?: unknown };
  try {
    request = JSON.parse(decodeURIComponent(subjectToken)) as typeof request;
  } catch {
    return 'The AWS subject token is not a URL-encoded JSON request.';
  }
  if (typeof request.url !== 'string' || request.method !== 'POST' || !Array.isArray(request.headers)) return 'The AWS subject token lacks url, method POST or headers.';
  const url = new URL(request.url);
  if (url.protocol !== 'https:' || url.host !== `sts.${aws.region}.amazonaws.com` || url.searchParams.get('Action') !== 'GetCallerIdentity' || url.searchParams.get('Version') !== '2011-06-15') {
    return `The AWS subject token does not call GetCallerIdentity at sts.${aws.region}.amazonaws.com.`;
  }
  const headers: Record<string, string> = {};
  for (const entry of request.headers as Array<{ key?: unknown; value?: unknown }>) {
    if (typeof entry?.key !== 'string' || typeof entry.value !== 'string') return 'The AWS subject token has a header that is not a key/value pair of texts.';
    headers[entry.key.toLowerCase()] = entry.value;
  }
  if (headers['x-goog-cloud-target-resource'] !== aws.audience) return 'The AWS subject token is not bound to this workload identity pool provider (x-goog-cloud-target-resource).';
  if (!/SignedHeaders=[^,]*\bx-goog-cloud-target-resource\b/.test(headers.authorization ?? '')) return 'The AWS subject token does not sign x-goog-cloud-target-resource.';
  if (headers.host !== url.host) return 'The AWS subject token names another host than its URL.';
  const problem = sigV4Problem({ method: 'POST', path: url.pathname, query: url.search.slice(1), headers, body: '' }, { credentials: aws.credentials, region: aws.region, service: 'sts' });
  return problem === undefined ? undefined : `AWS refused the GetCallerIdentity request: ${problem.code}: ${problem.message}`;
}
