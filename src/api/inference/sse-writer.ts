import type { ServerResponse } from 'node:http';

/** Queued text past this many characters is handed to the response at once rather than at the next `flush`. */
const flushAtLength = 64 * 1024;

/**
 * Writes server-sent events to a raw response, joining what its caller writes until `flush` into one socket write.
 *
 * Each `write` on the response costs a chunk of the chunked encoding (four buffers, each string converted
 * separately) and, once the response's cork is released, a `writev`. So text is queued here and handed to the
 * response when the caller has nothing more ready: `pumpRelay` flushes when the relay has to wait for the upstream,
 * so the events of one upstream read leave together, and an upstream that sends its last events and its end in one
 * read (the usual case for short replies) costs one write with the terminator (`end`). Text past `flushAtLength`
 * is sent at once, so a fast upstream never piles up.
 *
 * The status line and headers are not sent on their own when the first event is ready at the first flush (the
 * usual case: the upstream sends its headers and first event together); when it is not, the flush sends them, so
 * the client still sees the stream start at once.
 *
 * Backpressure: when the socket's buffer is over its high-water mark, the text is held until 'drain' (`congested`);
 * callers then wait on `drained()` before pulling more from the upstream.
 */
export class SseWriter {
  readonly #response: ServerResponse;
  #closed = false;
  #ended = false;
  #pending = '';
  /** Whether anything went to the response yet; `headersSent` cannot tell, it is true from `writeHead` on. */
  #started = false;
  /** Set while the response's buffer is full; resolves on 'drain', or on 'close' when the client went away. */
  #drain: Promise<void> | undefined;

  constructor(response: ServerResponse) {
    this.#response = response;
    response.once('close', () => {
      this.#closed = true;
    });
  }

  get closed(): boolean {
    return this.#closed || this.#response.destroyed;
  }

  /** Whether the client is not keeping up: what is written is held until `drained()` resolves. */
  get congested(): boolean {
    return this.#drain !== undefined;
  }

  /** Sets the status line and headers of an event stream; they go out with the first flush. */
  open(headers: Record<string, string>): void {
    this.#response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
  }

  /** Queues text for the client until the next `flush` or `end` (past `flushAtLength`, it is sent at once). */
  write(text: string): void {
    if (this.#ended || this.closed) return;
    this.#pending += text;
    if (this.#pending.length >= flushAtLength) this.#flush();
  }

  /** Sends what is queued (the headers alone when nothing is), unless the client is congested. */
  flush(): void {
    this.#flush();
  }

  /** Resolves when the response can take more (at once unless `congested`), or when the client left. */
  drained(): Promise<void> {
    return this.#drain ?? Promise.resolve();
  }

  /** Sends what is still queued plus `text`, and ends the response, in one write. */
  end(text?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const remaining = this.#pending + (text ?? '');
    this.#pending = '';
    if (this.#response.writableEnded) return;
    if (remaining === '' || this.closed) this.#response.end();
    else this.#response.end(remaining);
  }

  #flush(): void {
    if (this.#ended) return;
    if (this.closed) {
      this.#pending = '';
      return;
    }
    // Held while the buffer is full; 'drain' flushes it.
    if (this.#drain !== undefined) return;
    if (this.#pending === '') {
      // No event was ready at the first flush: let the client see the stream start now.
      if (!this.#started) this.#response.flushHeaders();
      this.#started = true;
      return;
    }
    const text = this.#pending;
    this.#pending = '';
    this.#started = true;
    if (!this.#response.write(text)) this.#waitForDrain();
  }

  #waitForDrain(): void {
    this.#drain = new Promise<void>((resolve) => {
      const done = () => {
        this.#response.off('drain', done);
        this.#response.off('close', done);
        this.#drain = undefined;
        resolve();
        this.#flush();
      };
      this.#response.on('drain', done);
      this.#response.on('close', done);
    });
  }
}
