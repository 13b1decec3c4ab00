import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type LevelMethod = (...args: unknown[]) => void;

/**
 * A request's logger that makes its pino child only when something is logged through it. Fastify gives every
 * request `logger.child({reqId})`; making that child (bindings serialised, a prototype chain set up) cost a few
 * microseconds and an allocation on every request, while Tollgate logs through it only when a request fails
 * unexpectedly (its per-request line is written by the request log, server/request-log.ts).
 */
class LazyChildLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  // One method per level, each handing its arguments (whatever pino's overloads take) to the child.
  declare fatal: LevelMethod;
  declare error: LevelMethod;
  declare warn: LevelMethod;
  declare info: LevelMethod;
  declare debug: LevelMethod;
  declare trace: LevelMethod;
  declare silent: LevelMethod;

  static {
    for (const level of levels) {
      LazyChildLogger.prototype[level] = function (this: LazyChildLogger, ...args: unknown[]): void {
        const logger = this.#logger();
        Reflect.apply(logger[level], logger, args);
      };
    }
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: request loggers that cost nothing until used. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // Its log methods take what pino's overloads take and hand it on unchanged.
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
