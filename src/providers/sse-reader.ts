/**
 * The reading side every SSE-speaking adapter shares (OpenAI-compatible, Anthropic, Gemini, Cohere, Replicate):
 * bytes in as the upstream sends them, whole events out. A provider folder keeps only what its events mean.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { StreamEvent } from '../spec/provider.js';

export type { EventSourceMessage };

/** Bytes of one server-sent-event stream in, complete events out, synchronously, to the callback given. */
export interface SseReader {
  /** Reads bytes split anywhere, inside a multi-byte character or an event included. */
  feed(bytes: Uint8Array): void;
  /** Ends the stream: a last event that the upstream did not close with a blank line still counts. */
  end(): void;
}

/** Creates a reader that hands each complete event of the stream to `onEvent`, in order. */
export function createSseReader(onEvent: (message: EventSourceMessage) => void): SseReader {
  // Node's StringDecoder rather than a streaming TextDecoder: both carry a character split between reads over to
  // the next, but TextDecoder's streaming mode goes through ICU, ~2.5 times the cost for a stream of 23 small reads.
  const text = new StringDecoder('utf8');
  const parser = createParser({ onEvent });
  return {
    feed(bytes) {
      parser.feed(text.write(bytes));
    },
    end() {
      // Two line ends complete a held event; with nothing held they add nothing.
      parser.feed(`${text.end()}\n\n`);
    },
  };
}

/** An event as SSE text again, for forwarding a native stream: named by its type, its data as the upstream wrote it. */
export function sseEventText(type: string, data: string): string {
  let text = `event: ${type}\n`;
  for (const line of data.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
}

/**
 * The events a stream decoder has ready: collected as its reader completes them, handed over all at once at each
 * push of bytes and at the end.
 */
export class PendingEvents {
  #events: StreamEvent[] = [];

  push(event: StreamEvent): void {
    this.#events.push(event);
  }

  /** The events collected since the last take, in order; none are kept. */
  take(): StreamEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }
}
