/**
 * The seam between the core and the providers. A provider is a folder under src/providers that exports a
 * ProviderAdapter: it describes its endpoints and auth, and translates requests, responses, streams and
 * errors between the canonical OpenAI shapes (spec/openai.ts) and its own wire format.
 * Nothing in the core names a provider; providers never import each other, the core or the server.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from './openai.js';
import type { JsonSource } from './json-source.js';
import type { TokenUsage } from './usage.js';

/** A provider key's credentials after env references were resolved: what an adapter signs requests with. */
export interface ResolvedKey {
  id: string;
  name: string;
  /** The provider's name as configured ("openai", or a custom provider's own name). */
  provider: string;
  /** The main secret ("" when the key has none, e.g. Bedrock with access keys). */
  value: string;
  azure?: {
    endpoint: string;
    deployments: Record<string, string>;
    apiVersion?: string;
    clientId?: string;
    clientSecret?: string;
    tenantId?: string;
    scopes: string[];
    /** Azure's secondary key, tried when the primary answers 401. */
    key2?: string;
  };
  vertex?: {
    projectId: string;
    projectNumber?: string;
    region: string;
    /** The service-account JSON (as text). */
    authCredentials: string;
    deployments: Record<string, string>;
  };
  bedrock?: {
    accessKey?: string;
    secretKey?: string;
    sessionToken?: string;
    region: string;
    arn?: string;
    deployments: Record<string, string>;
  };
  replicate?: { deployments: Record<string, string> };
  vllm?: { url: string; modelName?: string };
  ollama?: { url: string };
  sgl?: { url: string };
}

/** A provider's network settings (seed-002 `network_config`), with defaults applied. */
export interface NetworkSettings {
  /** Replaces the adapter's default origin (may carry a path prefix); standard paths are appended. */
  baseUrl?: string;
  extraHeaders: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  retryBackoffInitialMs: number;
  retryBackoffMaxMs: number;
}

/** What an adapter learns about the provider it serves. */
export interface ProviderSettings {
  /** The provider's configured name. */
  name: string;
  /** The adapter type speaking for it: the name itself for built-ins, `base_provider_type` for custom ones. */
  adapterType: string;
  network: NetworkSettings;
}

/** An HTTP request to an upstream. */
export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** An upstream's full (non-streamed) reply. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Sends a request and reads the whole reply; given to adapters for the side calls they make themselves
 * (OAuth token endpoints, polling), so that they need no HTTP client of their own.
 */
export type HttpSend = (request: UpstreamRequest, signal?: AbortSignal) => Promise<UpstreamResponse>;

/** Everything one attempt needs besides the request body. */
export interface ProviderContext {
  provider: ProviderSettings;
  key: ResolvedKey;
  /** The model as the upstream knows it (provider prefix removed, deployment not yet applied). */
  model: string;
  requestId: string;
  send: HttpSend;
  /** Milliseconds since the epoch; injected so token caches and ids are testable. */
  now: () => number;
  signal?: AbortSignal;
}

/** An upstream error mapped to what Tollgate tells the client. */
export interface UpstreamError {
  /** The status Tollgate answers with (already mapped, e.g. Anthropic 529 -> 503). */
  status: number;
  type: string;
  code: string | null;
  message: string;
  param?: string | null;
  /** Delay the upstream asked for (retry-after / retry-after-ms), in milliseconds. */
  retryAfterMs?: number;
}

/** Output of a stream decoder: a chunk for the client, or an error that ends the stream. */
export type StreamEvent =
  | {
      kind: 'chunk';
      chunk: ChatCompletionChunk;
      /** The upstream's own serialisation of the chunk, forwarded as is when nothing in it changed. */
      raw?: string;
    }
  | { kind: 'error'; error: UpstreamError }
  /**
   * One upstream event as its SSE text, in the client's own wire format: what a decoder created for a native
   * request (see `NativeRequest`) emits in place of chunks, to be forwarded as is.
   */
  | { kind: 'native'; text: string };

/** Turns an upstream's streamed body into OpenAI chunks. One decoder per attempt. */
export interface StreamDecoder {
  /** Feeds upstream bytes (split anywhere); returns the events completed by them. */
  push(data: Uint8Array): StreamEvent[];
  /** The upstream body ended; returns whatever was still held. */
  finish(): StreamEvent[];
  /**
   * Fetches what the stream itself does not carry (token counts some upstreams report only on a follow-up
   * call). The core calls it once, after a `finish()` that produced no error event and while the client is still
   * connected, before the stream's terminator; its events are relayed like the others. It must never throw for
   * a finished stream: a failure returns no events and leaves `usage()` undefined. Optional: decoders whose
   * stream is complete on its own leave it out.
   */
  complete?(signal?: AbortSignal): Promise<StreamEvent[]>;
  /** The usage reported so far (complete once the stream finished), or undefined when none was reported. */
  usage(): TokenUsage | undefined;
}

/**
 * The client's request in a provider's own wire format, for a route whose clients speak it (`/v1/messages`
 * speaks Anthropic's Messages API). An adapter whose `nativeFormats` hold its format sends this body (with its own model,
 * and what it alone decides, such as `stream`) instead of translating the canonical request, and the reply goes
 * back to the client as the upstream sent it: nothing the translation has no place for (block order, citations,
 * stop sequences, the usage breakdown) is lost. The canonical request is still given, for what the core and the
 * adapter read of it (limits, betas).
 */
export interface NativeRequest {
  format: 'anthropic-messages' | 'openai-responses';
  body: Record<string, unknown>;
  /**
   * Input tokens the native body may hold beyond what the canonical request shows (content the translation leaves
   * out, such as OpenAI's reasoning items): added to the reservation's input bound, so that a request sent as
   * written is bounded as well as its translation.
   */
  extraInputTokens?: number;
  /** The client's `anthropic-beta` names, sent with the native request whatever the route's other targets are. */
  betas?: readonly string[];
  /**
   * The client's body bytes with its parsed values: the members a native body sends as the client wrote them (the
   * messages or input, above all) are copied from it rather than serialised again (`serializeWithSource`).
   */
  source?: JsonSource;
}

/**
 * The reply header in which each native format's upstream names its request (Anthropic's `request-id`, which its SDKs
 * show as the message's `_request_id`): a native reply carries it on to the client, for the upstream's support.
 * OpenAI's is `x-request-id`, the header in which Tollgate names its own request, which a reply keeps.
 */
export const NATIVE_REQUEST_ID_HEADERS: Readonly<Record<NativeRequest['format'], string | undefined>> = {
  'anthropic-messages': 'request-id',
  'openai-responses': undefined,
};

export interface ChatOperation {
  /** The client formats this adapter can take as written (see `NativeRequest`); absent for adapters that only translate. */
  nativeFormats?: readonly NativeRequest['format'][];
  /**
   * Whether this attempt takes a client's request in `format` (one of `nativeFormats`) as written, for adapters that
   * take it for some models or keys only; absent: every attempt does.
   */
  takesNative?(context: ProviderContext, format: NativeRequest['format']): boolean;
  /**
   * Builds the upstream request for a chat completion (stream or not); may sign or fetch a token. `source`, when
   * given, is the client's body bytes with the values parsed from it: adapters that forward the request in the
   * OpenAI format may copy unchanged members from it (`serializeWithSource`); the others ignore it. `native`, given
   * only to an adapter whose `nativeFormats` hold its format, is the body to send instead of a translation.
   */
  buildRequest(
    request: ChatCompletionRequest,
    context: ProviderContext,
    options: { stream: boolean; source?: JsonSource; native?: NativeRequest },
  ): Promise<UpstreamRequest>;
  /**
   * Translates a successful non-streamed reply. May be async for providers that must poll for the result
   * (through `context.send`). `passthrough: true` says the upstream body is already the OpenAI completion the
   * client should get, so the core may forward its bytes unchanged instead of re-serialising. With `native` (the
   * request was sent as a `NativeRequest`), the reply is in the native format.
   */
  parseResponse(response: UpstreamResponse, context: ProviderContext, options?: { native?: boolean }): ChatResult | Promise<ChatResult>;
  /**
   * For upstreams whose non-streamed request starts work that runs on, billed, whether or not the connection stays
   * open, and that only the reply names (Replicate's prediction creation). An adapter that has it gets that request
   * sent detached from the client's cancellation (its timeout still bounds it): a client that leaves is answered at
   * once, as for any adapter, and the reply, once it arrives, is handed here, so that the adapter can stop the work
   * it names. Called at most once per request, only for a client that left; it must not throw. Absent: the client's
   * leaving aborts the request.
   */
  abandonedReply?(response: UpstreamResponse, context: ProviderContext): Promise<void>;
  /**
   * Creates the decoder for a successful streamed reply. With `native` (the request was sent as a `NativeRequest`),
   * it emits the upstream's events as `native` events instead of chunks, still reading the usage and the errors.
   */
  createStreamDecoder(context: ProviderContext, options?: { native?: boolean }): StreamDecoder;
}

export interface ChatResult {
  completion: ChatCompletion;
  usage: TokenUsage | undefined;
  passthrough?: boolean;
  /**
   * For an adapter with `nativeFormats`: the reply is sound in that format (each member its clients read is there
   * and of its type), so the client of a native request may get the upstream's bytes as they are; otherwise it
   * gets the translation of `completion`, as a client of any other provider would.
   */
  nativeSound?: boolean;
}

export interface EmbeddingOperation {
  /** One or more upstream requests (providers that embed one text per call fan out). */
  buildRequests(request: EmbeddingRequest, context: ProviderContext): Promise<UpstreamRequest[]>;
  /**
   * Combines the successful replies, in request order, into float embeddings. `vectorTexts`, where an adapter has
   * them, are the upstream's JSON texts of float vectors, by position in `result.data` (undefined for the others): a
   * vector the client gets as floats is then copied from its text instead of being serialised again.
   */
  parseResponses(
    responses: UpstreamResponse[],
    request: EmbeddingRequest,
    context: ProviderContext,
  ): { result: EmbeddingResponse; usage: TokenUsage | undefined; vectorTexts?: readonly (string | undefined)[] };
}

/** A request to count, in the two forms a provider's counter may take. */
export interface TokenCountRequest {
  /** The client's count request (a Messages body without `max_tokens`); its model is not the one to count for. */
  messages: Record<string, unknown>;
  /** The same request as a canonical chat request, for counters that take the provider's own request format. */
  chat: ChatCompletionRequest;
  /** The client's `anthropic-beta` names, which Claude's counters take as the Messages API does. */
  betas?: readonly string[];
  /** The client's request in its own format, for a counter that takes that format (OpenAI's for a Responses request). */
  native?: NativeRequest;
}

/**
 * Counting a Messages request's input tokens with the provider's own counter (Anthropic's
 * `/v1/messages/count_tokens`, Gemini's `:countTokens`), for providers that have one.
 */
export interface TokenCountOperation {
  /**
   * Whether the counter can count this request: for this model (as the client names it), on this provider (its
   * configured name), given the client's request; without it, every request.
   */
  counts?(model: string, request: { provider: string; native?: NativeRequest }): boolean;
  buildRequest(request: TokenCountRequest, context: ProviderContext): UpstreamRequest | Promise<UpstreamRequest>;
  /** The count from a successful reply; throws an invalid-reply error for anything else. */
  parseResponse(response: UpstreamResponse, context: ProviderContext): number;
}

/** Which credential fields a provider's keys need. */
export type CredentialStyle =
  /** `value` is required (OpenAI, Anthropic, ...). */
  | 'value'
  /** Credentials may live in the provider's sub-config instead of `value` (Azure, Bedrock, Vertex). */
  | 'value-or-config'
  /** Self-hosted servers addressed by a per-key URL; `value` optional (vLLM, Ollama, SGLang). */
  | 'url';

export interface ProviderAdapter {
  /** The adapter type, e.g. "openai", "anthropic", "bedrock". */
  type: string;
  /** Human-readable name, for /v1/models `owned_by` and logs. */
  displayName: string;
  /** The upstream origin (and path prefix) used when the provider has no `base_url`. */
  defaultBaseUrl: string;
  credentialStyle: CredentialStyle;
  /** Well-known model names, used to resolve bare model names and list /v1/models. */
  knownModels: readonly string[];
  chat: ChatOperation;
  embeddings?: EmbeddingOperation;
  /** The provider's own token counter; without one, Tollgate estimates (`/v1/messages/count_tokens`). */
  countTokens?: TokenCountOperation;
  /** Maps an upstream error reply to what the client is told. */
  parseError(response: UpstreamResponse, context: ProviderContext): UpstreamError;
  /**
   * Offers a second credential of the same key after an error reply (Azure's key2 on 401): the core repeats the
   * attempt once with the returned context before treating the reply as the attempt's outcome.
   */
  credentialFallback?(response: UpstreamResponse, context: ProviderContext): ProviderContext | undefined;
}

/** Where this process finds its own Azure identity, from the variables Azure's hosts set (read once by config/). */
export interface AzureIdentityOptions {
  /** Reads the AKS workload identity's federated token; read at each token request, since Kubernetes rotates the file. */
  readFederatedToken?: () => Promise<string>;
  /** The App Service / Container Apps managed identity endpoint and the header secret it requires. */
  identityEndpoint?: { url: string; header: string };
  /** The instance metadata service's origin; default `http://169.254.169.254`. */
  imdsHost?: string;
  /**
   * The client id the environment names (AZURE_CLIENT_ID, set by AKS's workload identity webhook or by the operator),
   * for keys naming none: the workload identity's application, or the user-assigned managed identity to act as.
   */
  clientId?: string;
  /** The tenant the environment names (AZURE_TENANT_ID), for the workload identity of keys naming no client id. */
  tenantId?: string;
}

/** AWS credentials for SigV4: an access key pair, with a session token when temporary. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where the host's own AWS credentials come from (cached and renewed by the source), asked at each signing. */
export type AwsCredentialSource = () => Promise<AwsCredentials>;

/** Where this process finds its own Google identity (Application Default Credentials), read once by config/. */
export interface GoogleIdentityOptions {
  /**
   * Reads the credential file GOOGLE_APPLICATION_CREDENTIALS names (a service account's key, a user's refresh token or
   * workload identity federation), once, and again after a failed read.
   */
  readApplicationCredentials?: () => Promise<string>;
  /**
   * Reads the file that file's workload identity federation takes its subject token from (`credential_source.file`),
   * at each token exchange, since the platforms rotate it.
   */
  readCredentialSourceFile?: (path: string) => Promise<string>;
  /** The metadata server's host (GCE_METADATA_HOST); default `metadata.google.internal`. */
  metadataHost?: string;
  /** The AWS variables a federation file of AWS's kind (`environment_id: "aws1"`) reads before the metadata service. */
  awsEnvironment?: AwsEnvironment;
}

/** The host's AWS environment variables, as config/ read them: AWS_REGION (else AWS_DEFAULT_REGION) and the access keys. */
export interface AwsEnvironment {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Settings an adapter factory may need, read once by config/ and passed in by the server. */
export interface AdapterOptions {
  /** The host's Google identity, for Vertex keys with neither a service-account JSON nor a value. */
  googleIdentity?: GoogleIdentityOptions;
  /** The host's AWS credentials (the AWS SDK's default chain), for Bedrock keys with neither an API key nor access keys. */
  awsCredentials?: AwsCredentialSource;
  /** Azure Entra authority host (the Azure SDKs' AZURE_AUTHORITY_HOST); default https://login.microsoftonline.com. */
  azureAuthorityHost?: string;
  /** The host's own Azure identity, for Azure keys that name a client id and hold no secret. */
  azureIdentity?: AzureIdentityOptions;
}

/** Each provider folder's index.ts exports one of these. */
export type AdapterFactory = (options: AdapterOptions) => ProviderAdapter;
