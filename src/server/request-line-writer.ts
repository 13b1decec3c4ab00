import { pino, type Logger } from 'pino';

type SymbolKeyed = Record<symbol, unknown>;

/** Writes one line whose members (JSON text without braces, e.g. `"a":1,"b":"x"`) are already serialised. */
export type LineWriter = (members: string) => void;

/**
 * A writer of lines in `logger`'s own format for members that are already JSON text: pino's level member, its time
 * member and the logger's bindings, then the members, then `"msg"`, exactly as pino would write them, straight to
 * the logger's destination. pino's generic path looks up serializers for, escapes and stringifies every member anew,
 * which made the per-request line cost several microseconds; the request line is built from a fixed set of facts
 * and needs none of that. A logger whose lines something else shapes (log formatters, a mixin, a stream-write hook,
 * a destination that wants pino's metadata, a message key of its own) gets its lines written through pino instead,
 * from the same members, so that both paths write the same line.
 */
export function lineWriter(logger: Logger, message: string): LineWriter {
  const internals = logger as unknown as SymbolKeyed;
  const symbols = pino.symbols;
  const formatters = internals[symbols.formattersSym] as { log?: unknown } | undefined;
  const hooks = internals[symbols.hooksSym] as { streamWrite?: unknown } | undefined;
  const stream = internals[symbols.streamSym] as { write?: (line: string) => unknown } | undefined;
  const levelPrefixes = internals[symbols.lsCacheSym] as Record<number, string> | undefined;
  const time = internals[symbols.timeSym] as (() => string) | undefined;
  const end = internals[symbols.endSym];
  const direct =
    formatters?.log === undefined &&
    internals[symbols.mixinSym] === undefined &&
    hooks?.streamWrite === undefined &&
    internals[symbols.messageKeySym] === 'msg' &&
    typeof stream?.write === 'function' &&
    (stream as SymbolKeyed)[symbols.needsMetadataGsym] !== true &&
    typeof levelPrefixes?.[logger.levels.values.info!] === 'string' &&
    typeof time === 'function' &&
    typeof end === 'string';
  if (!direct) return (members) => logger.info(JSON.parse(`{${members}}`) as object, message);
  const infoPrefix = levelPrefixes[logger.levels.values.info!]!;
  const messageMember = `,"msg":${JSON.stringify(message)}`;
  return (members) => {
    // The bindings are read per line: a child made later from the same logger does not change them, but
    // `setBindings` may.
    const bindings = internals[symbols.chindingsSym] as string;
    stream.write!(`${infoPrefix}${time.call(logger)}${bindings},${members}${messageMember}${end}`);
  };
}
