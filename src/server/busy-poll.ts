import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * Keeps the event loop polling for I/O, instead of sleeping in the kernel, for a short window after each sign of
 * traffic (a request arriving, an upstream request leaving, a part of an upstream reply arriving).
 *
 * Why: a process asleep in epoll on an idle CPU is woken by the kernel of the sender's CPU, and on a virtual
 * machine whose idle vCPUs halt (guest halt polling off, as on many clouds) that wake-up is an inter-processor
 * interrupt and a VM entry: tens of microseconds on every hop. A serial client pays it twice per request inside
 * the gateway (the request in, the upstream's reply in). A loop that is still polling when the bytes land takes
 * them without a wake-up. The price is CPU: while traffic keeps coming closer together than the window, the
 * process uses its whole core. So it is opt-in (TOLLGATE_BUSY_POLL_MICROSECONDS), for a gateway with a core of
 * its own in front of fast upstreams, the same trade as Linux's `net.core.busy_poll`.
 *
 * The loop is kept polling by a chain of immediates: libuv polls without a timeout while one is pending.
 */
export class BusyPoll {
  readonly #windowMs: number;
  readonly #now: () => number;
  #lastTraffic = 0;
  #polling = false;
  #stopped = false;

  /**
   * @param windowMicroseconds how long the loop keeps polling after the last sign of traffic
   * @param now a monotonic clock in milliseconds (tests give their own)
   */
  constructor(windowMicroseconds: number, now: () => number = () => performance.now()) {
    this.#windowMs = windowMicroseconds / 1000;
    this.#now = now;
  }

  /** Whether the loop is being kept polling now. */
  get polling(): boolean {
    return this.#polling;
  }

  /** Notes traffic: the loop keeps polling until a whole window has passed without any. */
  readonly touch = (): void => {
    if (this.#stopped) return;
    this.#lastTraffic = this.#now();
    if (!this.#polling) {
      this.#polling = true;
      setImmediate(this.#poll);
    }
  };

  /** Stops polling for good (the app is closing); a pending immediate ends the chain. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * An undici interceptor that notes traffic when an upstream request leaves and when each part of its reply
   * arrives, so that the loop is still polling when the next part lands.
   */
  upstreamInterceptor(): Dispatcher.DispatcherComposeInterceptor {
    const touch = this.touch;
    return (dispatch) => (options, handler) => {
      touch();
      return dispatch(options, new TrafficNotingHandler(handler, touch));
    };
  }

  readonly #poll = (): void => {
    if (this.#stopped || this.#now() - this.#lastTraffic >= this.#windowMs) {
      this.#polling = false;
      return;
    }
    setImmediate(this.#poll);
  };
}

/** Hands every event on to the request's own handler, noting traffic for each part of the reply. */
class TrafficNotingHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #touch: () => void;

  constructor(handler: Dispatcher.DispatchHandler, touch: () => void) {
    this.#handler = handler;
    this.#touch = touch;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.#touch();
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#touch();
    this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#touch();
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#touch();
    this.#handler.onResponseError?.(controller, error);
  }
}
