import type { ServerResponse } from 'node:http';

/**
 * Writes server-sent events to a raw response with backpressure: when the socket's buffer is full it waits for
 * 'drain' (or for the client to go away) instead of buffering without bound.
 */
export class SseWriter {
  #closed = false;

  constructor(private readonly response: ServerResponse) {
    response.once('close', () => {
      this.#closed = true;
    });
  }

  get closed(): boolean {
    return this.#closed || this.response.destroyed;
  }

  /** Sends the status line and headers of an event stream. */
  open(headers: Record<string, string>): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    // Headers go out at once, so that the client sees the stream start before the first chunk.
    this.response.flushHeaders();
  }

  /** Writes text; resolves when it may write more. */
  async write(text: string): Promise<void> {
    if (this.closed) return;
    if (this.response.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }
}
