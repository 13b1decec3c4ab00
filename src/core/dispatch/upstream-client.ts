import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { CancelSignal } from '../../spec/cancellation.js';
import { errors, GatewayError } from '../../spec/errors.js';
import type { HttpSend, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import type { UpstreamProxy } from '../../spec/upstream-proxy.js';
import { MAX_UPSTREAM_REPLY_BYTES, replyTooLarge } from './reply-bound.js';
import { StreamedBody } from './streamed-body.js';
import { dispatchOptions, streamDispatchOptions } from './dispatch-options.js';

/** A streamed upstream reply: status and headers now, the body as it arrives. */
export interface UpstreamStream {
  status: number;
  headers: Record<string, string>;
  /**
   * The body as it arrives, read with `for await` or by callback (`read`); a failure of the transfer is a GatewayError
   * (timeout, network, cancelled).
   */
  body: AsyncIterable<Uint8Array> & Pick<StreamedBody, 'read'>;
  /** Reads the whole body (for error replies). */
  readAll(): Promise<Uint8Array>;
  /** Releases the connection without reading further. */
  discard(): void;
}

/**
 * The keep-alive agent upstream requests go through: one pool per origin, connections kept between requests; through
 * the egress proxy when one is given (a CONNECT tunnel per pooled connection; hosts in `noProxy` directly).
 *
 * The pools open as many connections as requests are in flight: what bounds them is each provider's
 * `concurrency_and_buffer_size`, which answers a request beyond it with a 429 the operator can see and tune. A cap of
 * the pool's own would queue requests below that setting, unseen, for as long as the streams ahead of them last
 * (512 here once made the 513th concurrent stream to an origin wait out a whole stream before its first byte).
 */
export function createUpstreamAgent(proxy?: UpstreamProxy): Dispatcher {
  const options = {
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1,
    connect: { timeout: 10_000 },
  };
  if (!proxy) return new Agent(options);
  // Every value given, '' for none: undici reads the process environment for any left undefined.
  return new EnvHttpProxyAgent({ ...options, httpProxy: proxy.httpProxy, httpsProxy: proxy.httpsProxy, noProxy: proxy.noProxy });
}

/** One pooled keep-alive agent for every upstream origin; never a client per request. */
export class UpstreamClient {
  readonly #agent: Dispatcher;
  readonly #maxReplyBytes: number;

  /**
   * @param agent the dispatcher to send through; default: `createUpstreamAgent()`
   * @param maxReplyBytes the bound on a reply read whole; default {@link MAX_UPSTREAM_REPLY_BYTES}
   */
  constructor(agent: Dispatcher = createUpstreamAgent(), maxReplyBytes = MAX_UPSTREAM_REPLY_BYTES) {
    this.#agent = agent;
    this.#maxReplyBytes = maxReplyBytes;
  }

  /** The bound on a reply read whole; a stream relay holds no more than this between two events either. */
  get maxReplyBytes(): number {
    return this.#maxReplyBytes;
  }

  /**
   * Sends a request and returns as soon as the headers arrived; the body follows as it arrives. Built on undici's
   * dispatch API with a body of Tollgate's own (`StreamedBody`) rather than `request`'s Readable: a relay needs the
   * bytes of each read in order, with backpressure and errors, not Node's stream machinery on every read.
   */
  open(request: UpstreamRequest, options: { signal?: CancelSignal; timeoutMs: number }): Promise<UpstreamStream> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(classifyTransportError(signal.reason, signal));
    return new Promise<UpstreamStream>((resolve, reject) => {
      this.#agent.dispatch(streamDispatchOptions(request, options.timeoutMs), streamHandler(signal, this.#maxReplyBytes, resolve, reject));
    });
  }

  /**
   * Sends a request and reads the whole reply. Built on undici's dispatch API rather than `request`: a reply read
   * whole needs no Readable stream in between, which is most of undici's cost per request.
   */
  send(request: UpstreamRequest, options: { signal?: CancelSignal; timeoutMs: number }): Promise<UpstreamResponse> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(classifyTransportError(signal.reason, signal));
    const maxReplyBytes = this.#maxReplyBytes;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const cancellation = linkCancellation(signal);
      let status = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let length = 0;
      let refused = false;
      this.#agent.dispatch(dispatchOptions(request, options.timeoutMs), {
        onRequestStart(requestController) {
          cancellation.attach(requestController);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = joinRepeatedHeaders(responseHeaders);
        },
        onResponseData(controller, chunk) {
          if (refused) return;
          length += chunk.length;
          if (length > maxReplyBytes) {
            // Aborting closes the connection: the rest of the reply is never read, and the chunks so far are dropped.
            refused = true;
            chunks.length = 0;
            controller.abort(replyTooLarge(maxReplyBytes));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          cancellation.release();
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
          resolve({ status, headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
        },
        onResponseError(_controller, error) {
          cancellation.release();
          reject(classifyTransportError(error, signal));
        },
      });
    });
  }

  /**
   * Sends a request as `send` does, except that the caller's abort does not tear it down: the caller is answered at
   * once with the cancellation's error (a 499), and the request runs on, within its timeout, to its reply, which is
   * handed to `abandoned`. For requests that start work the upstream goes on with, billed, whether or not the
   * connection stays open, and that only the reply names: the reply is what lets that work be stopped. A request
   * that fails after its caller left is dropped, as there is nothing known to stop.
   */
  sendDetached(
    request: UpstreamRequest,
    options: { signal: CancelSignal; timeoutMs: number; abandoned: (response: UpstreamResponse) => Promise<void> },
  ): Promise<UpstreamResponse> {
    const signal = options.signal;
    if (signal.aborted) return Promise.reject(classifyTransportError(signal.reason, signal));
    const sent = this.send(request, { timeoutMs: options.timeoutMs });
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const onAbort = (): void => {
        reject(classifyTransportError(signal.reason, signal));
        sent.then((response) => handOver(options.abandoned, response), ignore);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      sent.then(
        (response) => {
          signal.removeEventListener('abort', onAbort);
          resolve(response);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** The HttpSend given to adapters for their side calls (tokens, polling). */
  sender(timeoutMs: number, signal?: CancelSignal): HttpSend {
    return (request, callSignal) => this.send(request, { timeoutMs, ...(callSignal ?? signal ? { signal: callSignal ?? signal! } : {}) });
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Hands an abandoned request's reply over; whatever the receiver does wrong stays with it, since no one waits for it. */
function handOver(abandoned: (response: UpstreamResponse) => Promise<void>, response: UpstreamResponse): void {
  try {
    abandoned(response).catch(ignore);
  } catch {
    // The receiver broke its promise not to throw; the client has had its answer, so there is no one to tell.
  }
}

function ignore(): void {}

/**
 * The undici handler of a streamed reply: `resolve` gets the reply once its headers arrived, its body then follows.
 * Made apart from `open`, so that none of its closures, which live as long as the stream, can reach the request
 * (whose body, for a chat, is the client's whole prompt).
 */
function streamHandler(
  signal: CancelSignal | undefined,
  maxReplyBytes: number,
  resolve: (stream: UpstreamStream) => void,
  reject: (error: unknown) => void,
): Dispatcher.DispatchHandler {
  const body = new StreamedBody((error) => classifyTransportError(error, signal), { maxReplyBytes });
  let started = false;
  // The client's disconnect aborts the upstream request until the body has ended, whenever it comes.
  const cancellation = linkCancellation(signal);
  return {
    onRequestStart(requestController) {
      body.attach(requestController);
      cancellation.attach(requestController);
    },
    onResponseStart(_controller, statusCode, responseHeaders) {
      started = true;
      resolve({
        status: statusCode,
        headers: joinRepeatedHeaders(responseHeaders),
        body,
        readAll: () => body.readAll(),
        discard() {
          cancellation.release();
          body.discard();
        },
      });
    },
    onResponseData(_controller, chunk) {
      body.push(chunk);
    },
    onResponseEnd() {
      cancellation.release();
      body.end();
    },
    onResponseError(_controller, error) {
      cancellation.release();
      if (started) body.fail(error);
      else reject(classifyTransportError(error, signal));
    },
  };
}

/**
 * Ties the client's cancellation to an undici request whose controller arrives only once undici starts it: an
 * abort before then is applied at the start. `release` drops the listener once the reply is complete.
 */
function linkCancellation(signal: CancelSignal | undefined): { attach(controller: Dispatcher.DispatchController): void; release(): void } {
  let controller: Dispatcher.DispatchController | undefined;
  let abortedEarly = false;
  const onAbort = () => {
    if (controller) controller.abort(signal?.reason as Error);
    else abortedEarly = true;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    attach(started) {
      controller = started;
      if (abortedEarly) started.abort(signal?.reason as Error);
    },
    release() {
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * The dispatch API hands over headers already parsed into an object with lower-case names; only a repeated
 * header (an array) needs joining, so the object is reused as it is when there is none.
 */
function joinRepeatedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  for (const name in headers) {
    if (typeof headers[name] !== 'string') return flattenHeaders(headers);
  }
  return headers as Record<string, string>;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * The kinds of transport failure the retry logic distinguishes. `certificate`: the upstream's TLS certificate was
 * not accepted, which trying the same origin again cannot change.
 */
export type TransportFailure = 'aborted' | 'timeout' | 'network' | 'certificate';

/**
 * The codes Node gives a TLS connection whose peer certificate failed verification: OpenSSL's verify results
 * (node's crypto_common.cc) and the host-name check's own.
 */
const certificateErrorCodes: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Marks a GatewayError made from a transport failure. */
export function transportFailureOf(error: unknown): TransportFailure | undefined {
  return error instanceof GatewayError ? (error as GatewayError & { transport?: TransportFailure }).transport : undefined;
}

function classifyTransportError(error: unknown, signal: CancelSignal | undefined): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string }).code ?? '';
  let result: GatewayError;
  let kind: TransportFailure;
  // Tollgate cancels a request only with its caller's signal (whose reason undici then reports) or an error of its
  // own, so undici's abort code with the signal not aborted is undici giving up on its own: a tunnel the egress
  // proxy would not open (undici says so only in the message, "Proxy response (407) …"), or any other such end. It
  // is the network's failure, not a client leaving: a 502 worth another try, never a 499.
  if (code === 'UND_ERR_ABORTED' && !signal?.aborted) {
    const proxyStatus = /^Proxy response \((\d+)\)/.exec((error as Error).message ?? '')?.[1];
    kind = 'network';
    result =
      proxyStatus !== undefined
        ? errors.badGateway(`The egress proxy refused the tunnel to the upstream provider (it answered ${proxyStatus})`, { code: 'upstream_proxy_refused', retryable: true })
        : errors.badGateway('The connection to the upstream provider was aborted before its reply (UND_ERR_ABORTED)', { code: 'upstream_unreachable', retryable: true });
  } else if (signal?.aborted || (error as Error).name === 'AbortError') {
    kind = 'aborted';
    result = new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed_request', message: 'The request was cancelled' });
  } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    kind = 'timeout';
    result = errors.timeout('The upstream provider did not answer in time', { retryable: true });
  } else if (certificateErrorCodes.has(code)) {
    kind = 'certificate';
    // Not retryable: the same origin presents the same certificate. Another key or a fallback may still serve.
    result = errors.badGateway(
      `The upstream provider's TLS certificate was not accepted (${code}); a private certificate authority can be trusted with NODE_EXTRA_CA_CERTS`,
      { code: 'upstream_certificate_rejected' },
    );
  } else {
    kind = 'network';
    result = errors.badGateway(`Could not reach the upstream provider (${code || 'connection error'})`, {
      code: 'upstream_unreachable',
      retryable: true,
    });
  }
  (result as GatewayError & { transport?: TransportFailure }).transport = kind;
  return result;
}
