/**
 * The AWS Bedrock adapter: chat through Converse / ConverseStream (and a Messages request to Claude as written through
 * InvokeModel / InvokeModelWithResponseStream), embeddings through InvokeModel, token counts of Anthropic's models
 * through CountTokens.
 * Keys sign with SigV4 (access key, secret, optional session token) or carry a Bedrock API key as a bearer token; a
 * key with neither signs with the host's credentials (`AdapterOptions.awsCredentials`).
 */
import { readReplyJson, readTokenCountReply } from '../../spec/reply-json.js';
import { secretsOfKey } from '../../spec/redact-secrets.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import type { AdapterFactory, ProviderAdapter, ProviderContext, UpstreamResponse } from '../../spec/provider.js';
import { authenticateBedrockRequest, DEFAULT_BEDROCK_REGION } from './bedrock-auth.js';
import { buildBedrockEmbeddingRequests, parseBedrockEmbeddingResponses } from './bedrock-embeddings.js';
import { parseBedrockError } from './bedrock-errors.js';
import { bedrockHeaders, bedrockModelId, bedrockOperationUrl, foundationModelId } from './bedrock-url.js';
import { claudeInvokeBody, createClaudeInvokeStreamDecoder, isClaudeOnBedrock, parseClaudeInvokeResponse } from './claude-invoke.js';
import { toConverseRequest } from './converse-request.js';
import { fromConverseResponse } from './converse-response.js';
import { createConverseStreamDecoder } from './converse-stream-decoder.js';
import type { ConverseResponse } from './converse-types.js';

/** Well-known Bedrock model ids (foundation models; inference profiles add a `us.`/`eu.`/`apac.` prefix). */
export const BEDROCK_KNOWN_MODELS: readonly string[] = [
  'anthropic.claude-sonnet-4-20250514-v1:0',
  'anthropic.claude-3-7-sonnet-20250219-v1:0',
  'anthropic.claude-3-5-sonnet-20241022-v2:0',
  'anthropic.claude-3-5-haiku-20241022-v1:0',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'amazon.nova-pro-v1:0',
  'amazon.nova-lite-v1:0',
  'amazon.nova-micro-v1:0',
  'meta.llama3-1-70b-instruct-v1:0',
  'meta.llama3-1-8b-instruct-v1:0',
  'mistral.mistral-large-2407-v1:0',
  'amazon.titan-embed-text-v2:0',
  'cohere.embed-english-v3',
  'cohere.embed-multilingual-v3',
];

/** Creates the Bedrock adapter. */
export const createBedrockAdapter: AdapterFactory = (adapterOptions): ProviderAdapter => {
  // Keys with neither an API key nor access keys sign with the host's credentials.
  const host = adapterOptions.awsCredentials;
  return {
    type: 'bedrock',
    displayName: 'AWS Bedrock',
    // The real origin depends on the key's region; this is the endpoint of the default region.
    defaultBaseUrl: `https://bedrock-runtime.${DEFAULT_BEDROCK_REGION}.amazonaws.com`,
    credentialStyle: 'value-or-config',
    knownModels: BEDROCK_KNOWN_MODELS,
    chat: {
      // Claude's models take a Messages request as the client wrote it, through InvokeModel; the others (and every
      // translated request) go through Converse.
      nativeFormats: ['anthropic-messages'],
      takesNative: isClaudeOnBedrock,
      async buildRequest(request, context, options) {
        const stream = options.stream;
        if (options.native !== undefined) {
          return authenticateBedrockRequest(
            {
              method: 'POST',
              url: bedrockOperationUrl(context, stream ? 'invoke-with-response-stream' : 'invoke'),
              headers: bedrockHeaders(context, stream ? 'application/vnd.amazon.eventstream' : 'application/json'),
              body: serializeWithSource(claudeInvokeBody(options.native.body, options.native.betas), options.native.source),
            },
            context,
            host,
          );
        }
        return authenticateBedrockRequest(
          {
            method: 'POST',
            url: bedrockOperationUrl(context, stream ? 'converse-stream' : 'converse'),
            headers: bedrockHeaders(context, stream ? 'application/vnd.amazon.eventstream' : 'application/json'),
            // Serialised once: the signature covers exactly these bytes.
            body: JSON.stringify(toConverseRequest(request)),
          },
          context,
          host,
        );
      },
      parseResponse(response, context, options) {
        if (options?.native === true) return parseClaudeInvokeResponse(response, context);
        return fromConverseResponse(readConverseResponse(response), context);
      },
      createStreamDecoder(context: ProviderContext, options) {
        if (options?.native === true) return createClaudeInvokeStreamDecoder(context, secretsOfKey(context.key));
        return createConverseStreamDecoder(context);
      },
    },
    embeddings: {
      buildRequests: (request, context) => buildBedrockEmbeddingRequests(request, context, host),
      parseResponses: parseBedrockEmbeddingResponses,
    },
    countTokens: {
      // CountTokens serves Anthropic's models on Bedrock; the others are estimated.
      counts: (model) => foundationModelId(model).startsWith('anthropic.claude'),
      async buildRequest(request, context) {
        // CountTokens takes the members of a Converse request that make up the input; the reply's settings stay out.
        const { inferenceConfig: _settings, ...converse } = toConverseRequest(request.chat);
        // The Anthropic SDK's beta counter names the beta that once gated Anthropic's count endpoint: not a model's.
        const betas = (request.betas ?? []).filter((name) => !name.startsWith('token-counting-'));
        if (betas.length > 0) converse.additionalModelRequestFields = { ...converse.additionalModelRequestFields, anthropic_beta: betas };
        return authenticateBedrockRequest(
          {
            method: 'POST',
            url: bedrockOperationUrl(context, 'count-tokens', foundationModelId(bedrockModelId(context))),
            headers: bedrockHeaders(context, 'application/json'),
            body: JSON.stringify({ input: { converse } }),
          },
          context,
          host,
        );
      },
      parseResponse(response) {
        return readTokenCountReply(response.body, 'inputTokens', 'Bedrock');
      },
    },
    parseError(response) {
      return parseBedrockError(response);
    },
  };
};

function readConverseResponse(response: UpstreamResponse): ConverseResponse {
  // Its shape is checked by the translation, which reads it.
  return readReplyJson(response.body, 'Bedrock') as ConverseResponse;
}
