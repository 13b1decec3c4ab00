/**
 * Azure OpenAI streams are OpenAI streams plus content-filter annotations: a first chunk with `choices: []`
 * carrying only `prompt_filter_results` (and an empty `model`), and, with asynchronous filtering, chunks whose
 * choices hold only `content_filter_results` without a `delta`. Clients that read `choices[0].delta` blindly
 * break on those, so they are removed; everything else passes through unchanged.
 */
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';

/**
 * A chunk without Azure's annotation-only parts: undefined when nothing is left for the client (no choice
 * with a delta or a finish reason, and no usage), the same chunk when nothing was removed.
 */
export function withoutFilterAnnotations(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
  const choices = chunk.choices.filter(
    (choice) => (choice.delta !== undefined && choice.delta !== null) || (choice.finish_reason !== null && choice.finish_reason !== undefined),
  );
  const hasUsage = chunk.usage !== undefined && chunk.usage !== null;
  if (choices.length === 0 && !hasUsage) return undefined;
  if (choices.length === chunk.choices.length) return chunk;
  return { ...chunk, choices };
}

/** Wraps the shared OpenAI-compatible decoder, dropping Azure's annotation-only chunks. */
export function filterAnnotationChunks(inner: StreamDecoder): StreamDecoder {
  const filter = (events: StreamEvent[]): StreamEvent[] =>
    events.flatMap((event): StreamEvent[] => {
      if (event.kind !== 'chunk') return [event];
      const kept = withoutFilterAnnotations(event.chunk);
      if (kept === undefined) return [];
      // A changed chunk can no longer be forwarded as the upstream's bytes.
      return kept === event.chunk ? [event] : [{ kind: 'chunk', chunk: kept }];
    });
  return {
    push: (data) => filter(inner.push(data)),
    finish: () => filter(inner.finish()),
    usage: () => inner.usage(),
  };
}
