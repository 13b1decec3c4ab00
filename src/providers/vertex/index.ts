/**
 * The Vertex AI adapter. Gemini models use the generateContent family under `publishers/google`; Claude models
 * (ids starting with `claude`) use `publishers/anthropic` with the Messages body; embeddings use `:predict`; token
 * counts use `:countTokens` (Gemini) or the Anthropic publisher's `count-tokens:rawPredict` (Claude).
 * Every request carries a bearer token obtained from the key's own Google credentials (a service account's JWT bearer
 * grant, or a user's refresh token), or, for a key without any, from the host's Google identity: the credential file
 * GOOGLE_APPLICATION_CREDENTIALS names (either of those, or workload identity federation), else the metadata server.
 * A credential naming a quota project sends it as `x-goog-user-project`, as Google's client libraries do.
 */
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import { errors } from '../../spec/errors.js';
import type { AdapterFactory, ProviderAdapter, ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { readTokenCountReply } from '../../spec/reply-json.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import { messagesHeaders } from '../anthropic-format/index.js';
import { chatRequestToGenerateContent } from '../gemini-format/chat-request-to-generate-content.js';
import { buildVertexPredictBodies, parseVertexPredict } from '../gemini-format/embeddings.js';
import { createGeminiStreamDecoder } from '../gemini-format/gemini-stream-decoder.js';
import { generateContentToChatCompletion } from '../gemini-format/generate-content-to-chat-completion.js';
import { parseGoogleError } from '../gemini-format/google-error.js';
import { readGoogleJson } from '../gemini-format/read-google-json.js';
import type { GenerateContentResponse } from '../gemini-format/types.js';
import { claudeCountTokensBody, claudeNativeBody, claudeRawPredictBody, createClaudeStreamDecoder, parseClaudeError, parseClaudeResponse } from './claude-on-vertex.js';
import { authorizedUserIdentity, fetchAuthorizedUserToken } from './authorized-user-token.js';
import { externalAccountIdentity, fetchExternalAccountToken } from './external-account-token.js';
import { parseGoogleCredential, type CredentialOrigin, type GoogleCredential } from './google-credential.js';
import { createMetadataTokenSource } from './metadata-token.js';
import { createAccessTokenSource, type AccessTokenSource } from './service-account-token.js';
import { createTokenCache } from './token-cache.js';
import { deployedModel, isClaudeModel, VERTEX_GLOBAL_ORIGIN, vertexModelUrl, vertexSettings, type VertexPublisher } from './vertex-address.js';

const KNOWN_MODELS = [
  'gemini-3-pro-preview',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'gemini-2.0-flash-lite',
  'claude-opus-4-5@20251101',
  'claude-sonnet-4-5@20250929',
  'claude-haiku-4-5@20251001',
  'gemini-embedding-001',
  'text-embedding-005',
  'text-multilingual-embedding-002',
] as const;

/** Secrets of a key that must never appear in an error message. */
function secretsOf(context: ProviderContext): string[] {
  return [context.key.value, context.key.vertex?.authCredentials].filter((secret): secret is string => Boolean(secret));
}

/** A request's credential: the bearer token, and the quota project its credential names. */
interface Bearer {
  token: string;
  quotaProject?: string;
}

/** Creates the Vertex AI adapter; its token caches live as long as the adapter. */
export const createVertexAdapter: AdapterFactory = (options) => {
  const tokens: AccessTokenSource = createAccessTokenSource();
  // Users' refresh tokens and federated identities, each cached per identity.
  const otherTokens = createTokenCache();
  const hostIdentity = options.googleIdentity ?? {};
  const metadataTokens = createMetadataTokenSource(hostIdentity.metadataHost);
  // Parsing (for a service account, importing the private key) costs more than a request; keys rarely change.
  const credentials = new Map<string, GoogleCredential>();
  // The host's credential file, read once (again after a failed read).
  let applicationCredentials: Promise<string> | undefined;

  function credentialOf(text: string, keyName: string, origin: CredentialOrigin): GoogleCredential {
    const cacheKey = `${origin}:${text}`;
    let credential = credentials.get(cacheKey);
    if (!credential) {
      credential = parseGoogleCredential(text, keyName, origin);
      credentials.set(cacheKey, credential);
    }
    return credential;
  }

  function readSourceFile(path: string): Promise<string> {
    const read = hostIdentity.readCredentialSourceFile;
    if (read === undefined) return Promise.reject(Object.assign(new Error('no file reader was given to the Vertex adapter'), { code: 'ENOTSUP' }));
    return read(path);
  }

  async function tokenOf(credential: GoogleCredential, context: ProviderContext): Promise<Bearer> {
    const quota = credential.quotaProject !== undefined ? { quotaProject: credential.quotaProject } : {};
    if (credential.type === 'service_account') return { token: await tokens.getToken(credential.account, context), ...quota };
    if (credential.type === 'authorized_user') {
      const user = credential.user;
      return { token: await otherTokens.getToken(authorizedUserIdentity(user), () => fetchAuthorizedUserToken(user, context), context), ...quota };
    }
    const external = credential.external;
    const fetch = () =>
      fetchExternalAccountToken(external, { send: context.send, now: context.now, readFile: readSourceFile, ...(hostIdentity.awsEnvironment ? { awsEnvironment: hostIdentity.awsEnvironment } : {}) });
    return { token: await otherTokens.getToken(externalAccountIdentity(external), fetch, context), ...quota };
  }

  /**
   * The credential of a request: the key's own Google credentials (value-or-config: the JSON in vertex_key_config or,
   * as a fallback, in the value), or, for a key with neither, the host's Google identity: the credential file
   * GOOGLE_APPLICATION_CREDENTIALS names, else the metadata server's service account.
   */
  async function bearerFor(context: ProviderContext): Promise<Bearer> {
    const key = context.key;
    const text = key.vertex?.authCredentials || (key.value.trim().startsWith('{') ? key.value : '');
    if (text !== '' || key.value !== '') return tokenOf(credentialOf(text, key.name, 'key'), context);
    const read = hostIdentity.readApplicationCredentials;
    if (read === undefined) return { token: await metadataTokens.getToken(context) };
    applicationCredentials ??= read().catch((error: unknown) => {
      applicationCredentials = undefined;
      const detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      throw errors.unavailable(`The credential file GOOGLE_APPLICATION_CREDENTIALS names could not be read (${detail}).`, { code: 'provider_credentials_missing' });
    });
    return tokenOf(credentialOf(await applicationCredentials, `${key.name} (GOOGLE_APPLICATION_CREDENTIALS)`, 'host'), context);
  }

  async function post(
    context: ProviderContext,
    publisher: VertexPublisher,
    model: string,
    method: string,
    body: unknown,
    stream: boolean,
    betas?: readonly string[],
    serialized?: string | Uint8Array,
  ): Promise<UpstreamRequest> {
    vertexSettings(context.key);
    const url = vertexModelUrl(context, publisher, model, method) + (stream && publisher === 'google' ? '?alt=sse' : '');
    const bearer = await bearerFor(context);
    // Claude's beta features ride along, as the Anthropic publisher reads them.
    const headers = messagesHeaders(context.provider.network.extraHeaders, stream ? 'text/event-stream' : 'application/json', betas);
    // Set last so that configured extra headers can never replace the credential.
    headers.authorization = `Bearer ${bearer.token}`;
    // A quota project the provider's headers already name wins, as a header set by hand does in Google's libraries.
    if (bearer.quotaProject !== undefined && headers['x-goog-user-project'] === undefined) headers['x-goog-user-project'] = bearer.quotaProject;
    return { method: 'POST', url, headers, body: serialized ?? JSON.stringify(body) };
  }

  const adapter: ProviderAdapter = {
    type: 'vertex',
    displayName: 'Google Vertex AI',
    defaultBaseUrl: VERTEX_GLOBAL_ORIGIN,
    credentialStyle: 'value-or-config',
    knownModels: KNOWN_MODELS,
    chat: {
      // Claude models take a Messages request as the client wrote it; Gemini models translate.
      nativeFormats: ['anthropic-messages'],
      takesNative: (context) => isClaudeModel(deployedModel(context)),
      async buildRequest(request, context, options) {
        const model = deployedModel(context);
        if (isClaudeModel(model)) {
          const method = options.stream ? 'streamRawPredict' : 'rawPredict';
          const native = options.native;
          if (native !== undefined) {
            // The client's members copied from its bytes (`serialized`), Vertex's version added.
            const body = claudeNativeBody(native.body, options.stream);
            return post(context, 'anthropic', model, method, body, options.stream, native.betas, serializeWithSource(body, native.source));
          }
          const body = claudeRawPredictBody(request, model, options.stream);
          const betas = readAnthropicBetas(request.anthropic_beta, 'anthropic_beta');
          return post(context, 'anthropic', model, method, body, options.stream, betas);
        }
        const body = chatRequestToGenerateContent(request, { model });
        return post(context, 'google', model, options.stream ? 'streamGenerateContent' : 'generateContent', body, options.stream);
      },
      parseResponse(response, context) {
        if (isClaudeModel(deployedModel(context))) return parseClaudeResponse(response, context);
        const body = readGoogleJson<GenerateContentResponse>(response, 'Vertex AI');
        return generateContentToChatCompletion(body, { model: context.model, now: context.now() });
      },
      createStreamDecoder(context, options) {
        if (isClaudeModel(deployedModel(context))) return createClaudeStreamDecoder(context, secretsOf(context), options?.native === true);
        return createGeminiStreamDecoder({ model: context.model, now: context.now, secrets: secretsOf(context) });
      },
    },
    embeddings: {
      async buildRequests(request, context) {
        const model = deployedModel(context);
        const bodies = buildVertexPredictBodies(request, model);
        return Promise.all(bodies.map((body) => post(context, 'google', model, 'predict', body, false)));
      },
      parseResponses(responses, request, context) {
        return parseVertexPredict(
          responses.map((response) => readGoogleJson<unknown>(response, 'Vertex AI')),
          context.model,
          request,
          deployedModel(context),
        );
      },
    },
    countTokens: {
      async buildRequest(request, context) {
        const model = deployedModel(context);
        // Claude's counter takes the Messages body with its model named in the body, at one address for all models.
        if (isClaudeModel(model)) return post(context, 'anthropic', 'count-tokens', 'rawPredict', claudeCountTokensBody(request.messages, model), false, request.betas);
        // Vertex's CountTokensRequest takes these members of a generateContent request, and refuses the others.
        const { contents, systemInstruction, tools, generationConfig } = chatRequestToGenerateContent(request.chat, { model });
        return post(context, 'google', model, 'countTokens', { contents, systemInstruction, tools, generationConfig }, false);
      },
      parseResponse(response, context) {
        if (isClaudeModel(deployedModel(context))) return readTokenCountReply(response.body, 'input_tokens', 'Vertex AI (Claude)');
        return readTokenCountReply(response.body, 'totalTokens', 'Vertex AI');
      },
    },
    parseError(response, context) {
      if (isClaudeModel(deployedModel(context))) return parseClaudeError(response, context, secretsOf(context));
      return parseGoogleError(response, { now: context.now(), secrets: secretsOf(context) });
    },
  };
  return adapter;
};
