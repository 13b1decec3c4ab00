import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AnthropicMessagesRequest } from '../../spec/anthropic.js';
import { messagesRequestSchema } from '../../spec/schemas/messages-request.js';
import type { ChatCompletion } from '../../spec/openai.js';
import type { ChatService } from '../../core/inference/chat-service.js';
import { chatCompletionToMessage, createMessagesStreamEncoder, messageIdFor, messagesRequestToChat } from '../../core/anthropic-messages/index.js';
import { inferenceCall, markHandled, noteFailure, noteServed, noteStreamEnd, relayFailure, servedHeaders, unreadableEvent } from './inference-call.js';
import { SseWriter } from './sse-writer.js';
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import { inferenceBodyLimit } from './chat-completions.js';
import { randomUUID } from 'node:crypto';
import '../route-access.js';

/** `POST /v1/messages`: Anthropic-SDK clients reach any provider through the canonical chat path. */
export function messagesRoutes(chat: ChatService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/messages',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: messagesRequestSchema } },
      async (request, reply) => {
        try {
          const { fallbacks, ...rest } = request.body;
          const anthropicBody = rest as unknown as AnthropicMessagesRequest;
          const probe = chat.targets({ model: anthropicBody.model, messages: [] }, fallbacks);
          // Claude upstreams read Anthropic-only features (cache_control, thinking) back from extension fields.
          const call = inferenceCall(request, 'messages');
          // Judged by what the keys (or the pinned key) send upstream, so that a deployment alias of a Claude model counts.
          const isClaude = (model: string) => model.replace(/^publishers\/anthropic\/models\//, '').startsWith('claude') || model.includes('anthropic.claude');
          const claude = probe.every((target) => {
            if (target.adapter.type === 'anthropic') return true;
            const deployed = chat.deployedModels(target, call.pinnedKeyId);
            return deployed.length > 0 ? deployed.every(isClaude) : isClaude(target.model);
          });
          // Beta features are Claude's: they travel only when every target is one.
          const betas = readAnthropicBetas(request.headers['anthropic-beta'], 'anthropic-beta');
          const chatBody = messagesRequestToChat(anthropicBody, { anthropicExtensions: claude, betas: claude ? betas : undefined });
          const result = await chat.complete(chatBody, probe, call);
          if (result.kind === 'completion') {
            reply.headers(servedHeaders(result.servedBy));
            noteServed(request, result.servedBy, { stream: false, usage: result.usage });
            return reply.type('application/json').send(JSON.stringify(chatCompletionToMessage(result.completion as ChatCompletion, anthropicBody.model, result.usage)));
          }
          reply.hijack();
          const writer = new SseWriter(reply.raw);
          writer.open({ 'x-request-id': String(request.id), ...servedHeaders(result.servedBy) });
          noteServed(request, result.servedBy, { stream: true });
          const encoder = createMessagesStreamEncoder({ model: anthropicBody.model, messageId: messageIdFor(`chatcmpl-${randomUUID().replace(/-/g, '')}`) });
          let failed: string | undefined;
          try {
            relay: for await (const events of result.events) {
              for (const event of events) {
                if (writer.closed) break relay;
                // The Anthropic answer ends with the usage, which comes after the content: it waits for the follow-up.
                if (event.kind === 'content-end') continue;
                if (event.kind === 'error') {
                  failed = event.error.code ?? 'upstream_stream_error';
                  writer.write(encoder.fail({ type: event.error.type, message: event.error.message }));
                  break relay;
                }
                let text: string;
                try {
                  // Reading `chunk` parses a chunk the decoder kept as upstream text, which may turn out not to be JSON.
                  text = encoder.push(event.chunk);
                } catch (error) {
                  const failure = unreadableEvent(error);
                  failed = failure.code;
                  result.fail(failure);
                  writer.write(encoder.fail({ type: failure.type, message: failure.message }));
                  break relay;
                }
                if (text && !writer.write(text)) await writer.drained();
              }
            }
          } catch (error) {
            const failure = relayFailure(request, result, error);
            failed = failure.code;
            writer.write(encoder.fail({ type: failure.type, message: failure.message }));
          }
          const clientClosed = writer.closed;
          noteStreamEnd(request, result.usage(), failed ?? (clientClosed ? 'client_closed_request' : undefined));
          writer.end(failed || clientClosed ? undefined : encoder.finish(result.usage()));
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
