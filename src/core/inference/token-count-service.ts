import type { InferenceCall, InferenceServiceDependencies, ServedBy } from './chat-service.js';
import { servedBy } from './chat-service.js';
import type { AnthropicMessagesRequest } from '../../spec/anthropic.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { NativeRequest, TokenCountRequest } from '../../spec/provider.js';
import { messagesRequestToChat } from '../anthropic-messages/index.js';
import { estimateMessagesTokens } from './token-estimate.js';

/**
 * The statuses with which a host says it has no such endpoint (not found, method not allowed, not implemented). A
 * count is advisory: for a model the host does not know, the estimate stands in too, and the request itself says so.
 */
const COUNTER_ABSENT_STATUSES: ReadonlySet<number> = new Set([404, 405, 501]);

/** A request's input tokens: counted by its provider, or estimated by Tollgate when the provider has no counter. */
export interface TokenCount {
  inputTokens: number;
  estimated: boolean;
  /** Who counted, when a provider did. */
  servedBy?: ServedBy;
}

/**
 * `/v1/messages/count_tokens`: the API key must be allowed the model, but nothing is reserved or charged (a count
 * uses no model); the provider's own counter is asked through the usual key choice, retries and error mapping, and
 * Tollgate estimates where the provider has none or its host says it has none.
 */
export class TokenCountService {
  constructor(private readonly dependencies: InferenceServiceDependencies) {}

  /**
   * @param body the count request as validated at the door (a Messages body without `max_tokens`)
   * @param betas the client's `anthropic-beta` names, for Claude's counters
   * @param native the client's request in its own format (a Responses request), for a counter that takes it
   */
  async count(
    body: Record<string, unknown> & { model: string },
    call: Omit<InferenceCall, 'route'>,
    betas?: readonly string[],
    native?: NativeRequest,
  ): Promise<TokenCount> {
    const target = this.dependencies.router.resolve(body.model);
    this.dependencies.meter.permit(call.principal, [target]);
    const counter = target.adapter.countTokens;
    if (!counter || counter.counts?.(target.model, { provider: target.provider.name, native }) === false) {
      return { inputTokens: await estimateMessagesTokens(body), estimated: true };
    }
    const request = { targets: [target], requestId: call.requestId, signal: call.signal, requestType: 'count_tokens', pinnedKeyId: call.pinnedKeyId };
    // Counters that take the provider's own format translate the canonical chat request, made only if one asks.
    let chat: ChatCompletionRequest | undefined;
    const counted: TokenCountRequest = {
      messages: body,
      betas,
      native,
      get chat() {
        return (chat ??= messagesRequestToChat(body as unknown as AnthropicMessagesRequest));
      },
    };
    const served = await this.dependencies.dispatcher.dispatch(request, async (_target, context, release) => {
      try {
        const upstreamRequest = await counter.buildRequest(counted, context);
        const response = await this.dependencies.client.send(upstreamRequest, { signal: call.signal, timeoutMs: context.provider.network.timeoutMs });
        // A host without the counter (an Anthropic-compatible server that serves Messages but not its counter) gets an
        // estimate rather than refusing a count, which clients such as Claude Code ask for as they go.
        if (COUNTER_ABSENT_STATUSES.has(response.status)) return { ok: true, value: undefined };
        if (response.status < 200 || response.status >= 300) return { ok: false, response };
        return { ok: true, value: counter.parseResponse(response, context) };
      } finally {
        release();
      }
    });
    if (served.value === undefined) return { inputTokens: await estimateMessagesTokens(body), estimated: true };
    return { inputTokens: served.value, estimated: false, servedBy: servedBy(served) };
  }
}
