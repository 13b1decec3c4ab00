import type { RelayEvent, RelayEvents, RelayReader } from '../../core/inference/stream-relay.js';
import type { SseWriter } from './sse-writer.js';

/**
 * Writes one batch's events to the client (`SseWriter.write`). Returns false when the stream stops there: an error
 * event written, the client gone. What it throws stops the stream too, and rejects `pumpRelay`'s promise.
 */
export type BatchWriter = (events: RelayEvent[]) => boolean;

/**
 * Relays a stream's batches to its client: reads the relay by callback, hands each batch to `writeBatch`, and
 * sends what was written when the relay has to wait for the upstream, in one socket write per upstream read.
 *
 * A `for await` over the relay cost a promise and a few trips through the microtask queue per batch, and since
 * the loop could not tell when the next batch would come, the writer sent its text from `setImmediate` at the end
 * of each turn of the event loop: with hundreds of streams open, each chunk in its own read, that was a good part
 * of a chunk's garbage and an extra pass of the loop's machinery per chunk. Read by callback, a batch that is ready
 * arrives before `read` returns, so the pump knows at once whether the relay waits: then it flushes. Everything a
 * stream ends with in one upstream read (its last events, its end) leaves in one write, with the terminator the
 * route adds (`SseWriter.end`).
 *
 * Backpressure: when the client's socket is full the writer holds the text, and the next batch is read once it
 * drains (a batch is at most one upstream read's events, whose body is paused past its own high-water mark).
 *
 * Resolves when the stream ended or was stopped (`writeBatch` returned false); rejects with the relay's failure,
 * with the failure to close a stream stopped early, or with what `writeBatch` threw. The stream is closed either way.
 */
export function pumpRelay(events: RelayEvents, writer: SseWriter, writeBatch: BatchWriter): Promise<void> {
  return new Promise((resolve, reject) => {
    new RelayPump(events, writer, writeBatch, resolve, reject).pull();
  });
}

class RelayPump implements RelayReader {
  /** Whether the current read was answered before `read` returned. */
  #answered = false;
  #reading = false;
  #finished = false;

  constructor(
    private readonly events: RelayEvents,
    private readonly writer: SseWriter,
    private readonly writeBatch: BatchWriter,
    private readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  /** Reads batches while they are ready; when the relay has to wait for the upstream, sends what they wrote. */
  pull(): void {
    while (!this.#finished) {
      if (this.writer.congested) {
        void this.writer.drained().then(() => this.pull());
        return;
      }
      this.#answered = false;
      this.#reading = true;
      try {
        this.events.read(this);
      } catch (error) {
        this.#stop({ error });
        return;
      } finally {
        this.#reading = false;
      }
      if (!this.#answered) {
        this.writer.flush();
        return;
      }
    }
  }

  relayBatch(events: RelayEvent[]): void {
    this.#answered = true;
    let goOn: boolean;
    try {
      goOn = this.writeBatch(events);
    } catch (error) {
      this.#stop({ error });
      return;
    }
    if (!goOn) this.#stop(undefined);
    // A batch that came later, from the upstream's callback: the loop is not running, so it starts again here.
    else if (!this.#reading) this.pull();
  }

  relayEnd(): void {
    this.#answered = true;
    this.#finish(undefined);
  }

  relayFailed(error: unknown): void {
    this.#answered = true;
    this.#finish({ error });
  }

  /** Stops the stream early; a failure of the route's own (`thrown`) is reported rather than one closing it. */
  #stop(thrown: { error: unknown } | undefined): void {
    this.#finished = true;
    const closing = this.events.stop();
    const failure = thrown ?? closing;
    if (failure === undefined) this.resolve();
    else this.reject(failure.error);
  }

  #finish(failure: { error: unknown } | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (failure === undefined) this.resolve();
    else this.reject(failure.error);
  }
}
