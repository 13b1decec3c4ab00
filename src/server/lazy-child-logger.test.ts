import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from './lazy-child-logger.js';
import { createLogger } from './logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('lazyChildLogger', () => {
  it('makes the child only when something is logged, once, with the bindings and the redaction of the parent', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'info', destination }) as unknown as FastifyBaseLogger;
    const child = vi.spyOn(parent, 'child');
    const logger = lazyChildLogger(parent, { reqId: 'r-1' }, {});
    expect(child).not.toHaveBeenCalled();
    logger.error({ err: new Error('boom'), headers: { authorization: 'Bearer sk-live-secret' } }, 'unhandled error');
    logger.info('second');
    logger.debug('below the level');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 50, reqId: 'r-1', msg: 'unhandled error', headers: { authorization: '[redacted]' } });
    expect(lines[1]).toMatchObject({ level: 30, reqId: 'r-1', msg: 'second' });
  });

  it("reports the parent's level until it has one of its own, and takes a route's level", () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'warn', destination }) as unknown as FastifyBaseLogger;
    expect(lazyChildLogger(parent, { reqId: 'r-2' }, {}).level).toBe('warn');
    const routeLevel = lazyChildLogger(parent, { reqId: 'r-3' }, { level: 'debug' });
    expect(routeLevel.level).toBe('debug');
    routeLevel.debug('shown');
    const raised = lazyChildLogger(parent, { reqId: 'r-4' }, {});
    raised.level = 'error';
    raised.warn('hidden');
    expect(raised.level).toBe('error');
    expect(lines.map((line) => [line.reqId, line.msg])).toEqual([['r-3', 'shown']]);
  });

  it('hands child loggers of its own on with both sets of bindings', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'info', destination }) as unknown as FastifyBaseLogger;
    lazyChildLogger(parent, { reqId: 'r-5' }, {}).child({ part: 'upstream' }).info('nested');
    expect(lines[0]).toMatchObject({ reqId: 'r-5', part: 'upstream', msg: 'nested' });
  });
});
