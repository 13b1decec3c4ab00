import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AnthropicMessagesRequest } from '../../spec/anthropic.js';
import { messagesRequestSchema } from '../../spec/schemas/messages-request.js';
import type { ChatCompletion } from '../../spec/openai.js';
import type { ChatResult, ChatService } from '../../core/inference/chat-service.js';
import { chatCompletionToMessage, createMessagesStreamEncoder, messageIdFor, messagesRequestToChat } from '../../core/anthropic-messages/index.js';
import { inferenceCall, jsonSourceOf, markHandled, noteFailure, noteServed, servedHeaders } from './inference-call.js';
import { relayTranslatedStream } from './translated-stream.js';
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import { inferenceBodyLimit } from './chat-completions.js';
import { randomUUID } from 'node:crypto';
import '../route-access.js';

/** Whether a model id, as a key sends it upstream, names a Claude model (Anthropic's, Bedrock's, Vertex AI's). */
function isClaude(model: string): boolean {
  return model.replace(/^publishers\/anthropic\/models\//, '').startsWith('claude') || model.includes('anthropic.claude');
}

/**
 * Hands the request to the service, natively or translated: a completion, or a stream whose relay is still to come.
 * Apart from the route, so that the body and the call are this function's alone (see `openChat`).
 */
async function openMessages(chat: ChatService, request: FastifyRequest): Promise<{ result: ChatResult; model: string }> {
  // Validated by the route's schema before the handler runs.
  const { fallbacks, ...rest } = request.body as z.infer<typeof messagesRequestSchema>;
  const anthropicBody = rest as unknown as AnthropicMessagesRequest;
  const probe = chat.targets({ model: anthropicBody.model, messages: [] }, fallbacks);
  const betas = readAnthropicBetas(request.headers['anthropic-beta'], 'anthropic-beta');
  // Claude upstreams that speak Anthropic's format (Anthropic's API, Claude on Vertex) take the request as the
  // client wrote it and answer it as Anthropic does (see NativeRequest); a system turn inside `messages`, which
  // they refuse, goes the translated way, which lifts it into `system`.
  const native = anthropicBody.messages.every((message) => message.role !== 'system')
    ? { format: 'anthropic-messages' as const, body: rest as Record<string, unknown>, betas, source: jsonSourceOf(request) }
    : undefined;
  // Claude upstreams read Anthropic-only features (cache_control, thinking) back from extension fields.
  const call = inferenceCall(request, 'messages', native);
  // Judged by what the keys (or the pinned key) send upstream, so that a deployment alias of a Claude model counts.
  const claude = probe.every((target) => {
    if (target.adapter.type === 'anthropic') return true;
    const deployed = chat.deployedModels(target, call.pinnedKeyId);
    return deployed.length > 0 ? deployed.every(isClaude) : isClaude(target.model);
  });
  // Beta features are Claude's: translated, they travel only when every target is one.
  const chatBody = messagesRequestToChat(anthropicBody, { anthropicExtensions: claude, betas: claude ? betas : undefined });
  const result = await chat.complete(chatBody, probe, call);
  return { result, model: anthropicBody.model };
}

/**
 * `POST /v1/messages`: Anthropic-SDK clients reach any provider through the canonical chat path, and Claude upstreams
 * that speak Anthropic's format with their request and its reply as they are.
 */
export function messagesRoutes(chat: ChatService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/messages',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: messagesRequestSchema } },
      async (request, reply) => {
        try {
          const { result, model } = await openMessages(chat, request);
          if (result.kind === 'completion') {
            reply.headers(servedHeaders(result.servedBy));
            noteServed(request, result.servedBy, { stream: false, usage: result.usage });
            if (result.native) {
              if (result.nativeHeaders) reply.headers(result.nativeHeaders);
              return reply.type('application/json').send(Buffer.from(result.native.buffer, result.native.byteOffset, result.native.byteLength));
            }
            return reply.type('application/json').send(JSON.stringify(chatCompletionToMessage(result.completion as ChatCompletion, model, result.usage)));
          }
          const encoder = createMessagesStreamEncoder({
            model,
            messageId: messageIdFor(`chatcmpl-${randomUUID().replace(/-/g, '')}`),
            usageSoFar: result.usage,
          });
          await relayTranslatedStream(request, reply, result, encoder);
        } catch (error) {
          noteFailure(request, error);
          throw error;
        } finally {
          markHandled(request);
        }
      },
    );
  };
}
