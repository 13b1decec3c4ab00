import { errors, isGatewayError } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import type { UpstreamResponse } from '../../spec/provider.js';
import { trustedUsage } from '../../spec/usage.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { UpstreamClient } from '../dispatch/upstream-client.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RouteTarget, Router } from '../routing/router.js';
import type { InferenceCall, ServedBy } from './chat-service.js';
import { settleAfterAnswer, type UsageMeter } from './metering.js';
import { decodeEmbedding, encodeEmbedding } from './embedding-encoding.js';

export interface EmbeddingServiceDependencies {
  router: Router;
  dispatcher: Dispatcher;
  client: UpstreamClient;
  meter: UsageMeter;
  metrics: GatewayMetrics;
  clock: Clock;
  /** Told when a settlement made after the answer fails (see settleAfterAnswer). */
  onError: (error: unknown, context: string) => void;
}

/** Embeddings: resolve, reserve, dispatch (fanning out where the provider needs it), encode, settle. */
export class EmbeddingService {
  constructor(private readonly dependencies: EmbeddingServiceDependencies) {}

  async embed(body: EmbeddingRequest, call: Omit<InferenceCall, 'route'>): Promise<{ result: EmbeddingResponse; servedBy: ServedBy }> {
    const started = this.dependencies.clock();
    const target = this.dependencies.router.resolve(body.model);
    if (!target.adapter.embeddings) {
      throw errors.badRequest(`Provider "${target.provider.name}" does not offer embeddings`, {
        param: 'model',
        code: 'embeddings_not_supported',
        provider: target.provider.name,
        model: body.model,
        requestType: 'embedding',
      });
    }
    const operation = target.adapter.embeddings;
    const ticket = await this.dependencies.meter.begin({
      principal: call.principal,
      requestId: call.requestId,
      requestType: 'embeddings',
      targets: [target],
      body,
    });
    try {
      const served = await this.dependencies.dispatcher.dispatch(
        {
          targets: [target],
          requestId: call.requestId,
          signal: call.signal,
          requestType: 'embedding',
          ...(call.pinnedKeyId !== undefined ? { pinnedKeyId: call.pinnedKeyId } : {}),
        },
        async (attemptTarget, context, release) => {
          try {
            const upstreamBody = body.model === attemptTarget.model ? body : { ...body, model: attemptTarget.model };
            const requests = await operation.buildRequests(upstreamBody, context);
            const responses: UpstreamResponse[] = await Promise.all(
              requests.map((request) => this.dependencies.client.send(request, { signal: call.signal, timeoutMs: context.provider.network.timeoutMs })),
            );
            const failed = responses.find((response) => response.status < 200 || response.status >= 300);
            if (failed) return { ok: false, response: failed };
            return { ok: true, value: operation.parseResponses(responses, upstreamBody, context) };
          } finally {
            release();
          }
        },
      );
      const { result } = served.value;
      // Settled only when its counts are counts: amounts the limit counters refuse would leave the reservation held.
      const usage = trustedUsage(served.value.usage);
      const wantsBase64 = body.encoding_format === 'base64';
      for (const item of result.data) {
        item.embedding = wantsBase64 ? encodeEmbedding(item.embedding) : decodeEmbedding(item.embedding);
      }
      const latencyMs = this.dependencies.clock() - started;
      settleAfterAnswer(() => {
        ticket.settle({
          status: 200,
          served: { target: served.target, keyId: served.key.id, pricingStructureId: served.key.customPricingStructureId },
          usage,
          latencyMs,
          stream: false,
        });
        this.dependencies.metrics.observe({
          route: 'embeddings',
          provider: served.target.provider.name,
          model: served.target.model,
          status: 200,
          seconds: latencyMs / 1000,
          usage,
        });
      }, this.dependencies.onError);
      return { result, servedBy: { provider: served.target.provider.name, model: served.target.model, keyId: served.key.id } };
    } catch (error) {
      const gatewayError = isGatewayError(error) ? error : errors.internal('Internal server error', { cause: error });
      ticket.settle({ status: gatewayError.status, errorCode: gatewayError.code, latencyMs: this.dependencies.clock() - started, stream: false });
      this.dependencies.metrics.observe({
        route: 'embeddings',
        provider: target.provider.name,
        model: target.model,
        status: gatewayError.status,
        seconds: (this.dependencies.clock() - started) / 1000,
        errorCode: gatewayError.code,
      });
      throw gatewayError;
    }
  }

  /** The target an embeddings body resolves to (exposed for the route's validation). */
  target(model: string): RouteTarget {
    return this.dependencies.router.resolve(model);
  }
}
