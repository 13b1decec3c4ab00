/**
 * The Vertex AI adapter. Gemini models use the generateContent family under `publishers/google`; Claude models
 * (ids starting with `claude`) use `publishers/anthropic` with the Messages body; embeddings use `:predict`; token
 * counts use `:countTokens` (Gemini) or the Anthropic publisher's `count-tokens:rawPredict` (Claude).
 * Every request carries a bearer token obtained from the key's service account (JWT bearer grant), or, for a key
 * without one, from the host's Google identity (its GOOGLE_APPLICATION_CREDENTIALS file or the metadata server).
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
import { createMetadataTokenSource } from './metadata-token.js';
import {
  createAccessTokenSource,
  parseServiceAccountCredential,
  type AccessTokenSource,
  type ServiceAccountCredential,
} from './service-account-token.js';
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

/** Creates the Vertex AI adapter; its token caches live as long as the adapter. */
export const createVertexAdapter: AdapterFactory = (options) => {
  const tokens: AccessTokenSource = createAccessTokenSource();
  const hostIdentity = options.googleIdentity ?? {};
  const metadataTokens = createMetadataTokenSource(hostIdentity.metadataHost);
  // Parsing and importing the private key costs more than a request; keys rarely change.
  const credentials = new Map<string, ServiceAccountCredential>();
  // The host's service-account file, read once (again after a failed read).
  let applicationCredentials: Promise<string> | undefined;

  function credentialOf(text: string, keyName: string): ServiceAccountCredential {
    let credential = credentials.get(text);
    if (!credential) {
      credential = parseServiceAccountCredential(text, keyName);
      credentials.set(text, credential);
    }
    return credential;
  }

  /**
   * The bearer token of a request: the key's service account (value-or-config: its JSON in vertex_key_config or, as a
   * fallback, in the value), or, for a key with neither, the host's Google identity: the service account
   * GOOGLE_APPLICATION_CREDENTIALS names, else the metadata server's.
   */
  async function bearerFor(context: ProviderContext): Promise<string> {
    const key = context.key;
    const text = key.vertex?.authCredentials || (key.value.trim().startsWith('{') ? key.value : '');
    if (text !== '' || key.value !== '') return tokens.getToken(credentialOf(text, key.name), context);
    const read = hostIdentity.readApplicationCredentials;
    if (read === undefined) return metadataTokens.getToken(context);
    applicationCredentials ??= read().catch((error: unknown) => {
      applicationCredentials = undefined;
      const detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      throw errors.unavailable(`The service-account file GOOGLE_APPLICATION_CREDENTIALS names could not be read (${detail}).`, { code: 'provider_credentials_missing' });
    });
    return tokens.getToken(credentialOf(await applicationCredentials, `${key.name} (GOOGLE_APPLICATION_CREDENTIALS)`), context);
  }

  async function post(
    context: ProviderContext,
    publisher: VertexPublisher,
    model: string,
    method: string,
    body: unknown,
    stream: boolean,
    betas?: readonly string[],
    serialized?: string,
  ): Promise<UpstreamRequest> {
    vertexSettings(context.key);
    const url = vertexModelUrl(context, publisher, model, method) + (stream && publisher === 'google' ? '?alt=sse' : '');
    const token = await bearerFor(context);
    // Claude's beta features ride along, as the Anthropic publisher reads them.
    const headers = messagesHeaders(context.provider.network.extraHeaders, stream ? 'text/event-stream' : 'application/json', betas);
    // Set last so that configured extra headers can never replace the credential.
    headers.authorization = `Bearer ${token}`;
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
            // The client's members copied from its text (`serialized`), Vertex's version added.
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
