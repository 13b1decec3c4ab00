import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, withoutRedaction } from './logger.js';
import { lineWriter } from './request-line-writer.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { lines, destination };
}

const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '');

const members = '"reqId":"r-1","requestId":"r-1","method":"POST","route":"/v1/chat/completions","status":200,"latencyMs":1.25,"provider":"openai","model":"gpt-4o \\"mini\\"","keyId":null,"stream":false,"tokens":{"input":3,"output":5,"cached":0}';

describe('lineWriter', () => {
  it("writes the very line pino writes for the same members, level, bindings and message, in the logger's time format", () => {
    const { lines, destination } = capture();
    const logger = withoutRedaction(createLogger({ level: 'info', destination }));
    const info = vi.spyOn(logger, 'info');
    lineWriter(logger, 'request')(members);
    // Tollgate's own logger has nothing that shapes its lines: the writer goes to the destination itself.
    expect(info).not.toHaveBeenCalled();
    info.mockRestore();
    logger.info(JSON.parse(`{${members}}`) as object, 'request');
    expect(lines).toHaveLength(2);
    expect(withoutTime(lines[0]!)).toBe(withoutTime(lines[1]!));
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, service: 'tollgate', model: 'gpt-4o "mini"', msg: 'request' });
    expect((JSON.parse(lines[0]!) as { time: string }).time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('goes through pino, from the same members, for a logger whose lines a mixin or a log formatter shapes', () => {
    const { lines, destination } = capture();
    const mixed = pino({ base: { service: 'other' }, mixin: () => ({ zone: 'eu' }) }, destination);
    const formatted = pino({ base: null, formatters: { log: (object) => ({ ...object, formatted: true }) } }, destination);
    lineWriter(mixed, 'request')(members);
    lineWriter(formatted, 'request')('"reqId":"r-2"');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'other', zone: 'eu', reqId: 'r-1', tokens: { input: 3 }, msg: 'request' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ reqId: 'r-2', formatted: true, msg: 'request' });
  });

  it('keeps the bindings a logger has when the line is written', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination }).child({ worker: 2 });
    const write = lineWriter(logger, 'request');
    write('"reqId":"r-3"');
    logger.setBindings({ region: 'eu' });
    write('"reqId":"r-4"');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'tollgate', worker: 2, reqId: 'r-3' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ worker: 2, region: 'eu', reqId: 'r-4' });
  });
});
