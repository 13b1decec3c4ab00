/**
 * Claude on Bedrock through InvokeModel / InvokeModelWithResponseStream, for a Messages request sent as the client
 * wrote it (see `NativeRequest`): Anthropic's body with Bedrock's `anthropic_version` (no model, no stream: the address
 * says both), Anthropic's message back, and Anthropic's stream events each wrapped in an event-stream `chunk` frame.
 */
import { Buffer } from 'node:buffer';
import type { ChatResult, ProviderContext, StreamDecoder, StreamEvent, UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import type { TokenUsage } from '../../spec/usage.js';
import { createAnthropicStreamDecoder, messageReplyToChatResult, nativeMessagesBody } from '../anthropic-format/index.js';
import { NATIVE_MESSAGES_MEMBERS } from '../../spec/anthropic.js';
import { BedrockEventStreamReader, brokenStream } from './event-stream-reader.js';
import { bedrockModelId, foundationModelId } from './bedrock-url.js';

/** The API version Bedrock's Claude models take in the body. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/**
 * The members of a client's Messages request that Bedrock's InvokeModel takes for Claude: those of Anthropic's API
 * but `metadata`, which Bedrock's body has no place for (the Converse translation leaves it out too); Claude's own
 * members go as the translation sends them in Converse's `additionalModelRequestFields`.
 */
const BEDROCK_MESSAGES_MEMBERS: readonly string[] = NATIVE_MESSAGES_MEMBERS.filter((member) => member !== 'metadata');

/** Whether the attempt's model is one of Anthropic's Claude models (a foundation model or an inference profile of one). */
export function isClaudeOnBedrock(context: ProviderContext): boolean {
  return foundationModelId(bedrockModelId(context)).startsWith('anthropic.claude');
}

/** The InvokeModel body of a native Messages request; the client's betas as Bedrock takes them, in the body. */
export function claudeInvokeBody(client: Record<string, unknown>, betas: readonly string[] | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...nativeMessagesBody(client, undefined, false, BEDROCK_MESSAGES_MEMBERS) };
  if (betas !== undefined && betas.length > 0) body.anthropic_beta = betas;
  return body;
}

/** Reads InvokeModel's answer, an Anthropic message, and whether it may reach the client as it is. */
export function parseClaudeInvokeResponse(response: UpstreamResponse, context: ProviderContext): ChatResult {
  return messageReplyToChatResult(response.body, context, 'Bedrock (Claude)');
}

/**
 * The decoder of an InvokeModelWithResponseStream reply, which only a native request asks for: each `chunk` frame's
 * `bytes` (base64) holds one of Anthropic's stream events, which Anthropic's decoder reads and forwards (or
 * translates, from a start it cannot forward); an exception frame or a broken stream ends it with an error.
 */
export function createClaudeInvokeStreamDecoder(context: ProviderContext, secrets: readonly (string | undefined)[]): StreamDecoder {
  const reader = new BedrockEventStreamReader();
  const claude = createAnthropicStreamDecoder({
    model: context.model,
    created: Math.floor(context.now() / 1000),
    fallbackId: `msg_${context.requestId}`,
    secrets,
    native: true,
  });
  let failed = false;
  const fail = (error: string | UpstreamError): StreamEvent[] => {
    failed = true;
    return [{ kind: 'error', error: typeof error === 'string' ? brokenStream(error) : error }];
  };
  return {
    push(data) {
      if (failed) return [];
      const events: StreamEvent[] = [];
      for (const item of reader.push(data)) {
        if (item.kind === 'error') return [...events, ...fail(item.error)];
        const bytes = item.payload.bytes;
        if (item.type !== 'chunk' || typeof bytes !== 'string') return [...events, ...fail('Bedrock sent a stream frame that is not a chunk of bytes.')];
        const decoded = claude.pushEvent(Buffer.from(bytes, 'base64').toString('utf8'));
        events.push(...decoded);
        if (decoded.some((event) => event.kind === 'error')) {
          failed = true;
          break;
        }
      }
      return events;
    },
    finish() {
      if (failed) return [];
      const broken = reader.finish();
      if (broken !== undefined) return fail(broken);
      return claude.finish();
    },
    usage(): TokenUsage | undefined {
      return claude.usage();
    },
  };
}
