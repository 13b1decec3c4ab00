import { pino, type DestinationStream, type Logger } from 'pino';
import { BatchedDestination, type BatchTarget } from './batched-destination.js';
import { isoTimestamp } from '../spec/iso-timestamp.js';

/**
 * Header and body paths that may hold credentials. Tollgate never logs request headers or bodies on purpose;
 * the redaction is the second line of defence should an error object carry them.
 */
const redactPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-maxim-api-key"]',
  'req.headers["api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  'headers["x-identity-header"]',
  // An error logged as `err` that carries the headers of the request it failed on (an HTTP client's error).
  'err.headers.authorization',
  'err.headers["x-api-key"]',
  'err.headers["api-key"]',
  'err.headers["x-goog-api-key"]',
  'err.headers["x-identity-header"]',
  'err.request.headers.authorization',
  'err.request.headers["x-api-key"]',
  'err.request.headers["api-key"]',
  'err.request.headers["x-goog-api-key"]',
  'err.request.headers["x-identity-header"]',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.value',
  '*.secret',
  '*.client_secret',
  '*.client_assertion',
  '*.secret_key',
  '*.access_key',
  '*.session_token',
  '*.auth_credentials',
];

/**
 * Lines are gathered into batches of this many bytes (about 150 request lines) before they are handed to
 * pino's destination. Each of its writes is a trip to libuv's thread pool, which on a gateway pinned to one core
 * shares that core: measured in Tollgate under load, a write cost ~180–290 µs of the core whatever its size, so
 * 8 KB batches cost ~9 µs per line, 32 KB ~5 µs and 64 KB ~2–3 µs (measured when batches were still joined
 * strings; 128 KB saved no more). See BatchedDestination for why the batching is not left to the destination's
 * `minLength`.
 */
const batchBytes = 64 * 1024;

/** A gathered line is written within this many milliseconds however quiet the gateway is. */
const batchFlushMs = 250;

/**
 * pino's `isoTime` member (`,"time":"<ISO 8601>"`), through isoTimestamp: formatting a date from scratch on every
 * line was about 1 % of a streamed request's CPU.
 */
function isoTime(): string {
  return `,"time":"${isoTimestamp(Date.now())}"`;
}

/** pino's asynchronous destination on standard output, taking bytes (its type declares text writes only). */
function standardOutputBytes(): BatchTarget {
  return pino.destination({ dest: 1, sync: false, contentMode: 'buffer' }) as unknown as BatchTarget;
}

/** Standard output as the process logger writes to it: lines gathered into batches, written asynchronously. */
export function standardOutputDestination(): BatchedDestination {
  return new BatchedDestination(standardOutputBytes(), { batchBytes, flushMs: batchFlushMs });
}

/** Creates the process logger: JSON lines, written asynchronously and in batches to standard output by default. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  const destination = options.destination ?? standardOutputDestination();
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'tollgate' },
      timestamp: isoTime,
    },
    destination,
  );
}

/**
 * A logger for lines built only from named facts, never from headers, bodies or errors (the per-request line): a
 * child of `logger` with redaction switched off, so it writes to the same destination with the same base fields
 * and time format, and follows the parent's level, also when that changes later. The redaction's wildcard paths
 * are checked on every line and cost several times what writing the line does.
 */
export function withoutRedaction(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}
