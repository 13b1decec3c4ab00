import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger, withoutRedaction } from './logger.js';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, destination };
}

describe('withoutRedaction', () => {
  it('writes to the same destination with the same base fields and time format, unredacted', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    const facts = withoutRedaction(logger);
    const before = Date.now();
    facts.info({ reqId: 'r-1', tokens: { value: 3 } }, 'request');
    logger.info({ reqId: 'r-2', tokens: { value: 3 } }, 'request');
    const after = Date.now();
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0]!)).toEqual(Object.keys(lines[1]!));
    expect(lines[0]).toMatchObject({ level: 30, service: 'tollgate', reqId: 'r-1', tokens: { value: 3 }, msg: 'request' });
    expect(lines[0]!.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The moment the line was written, to the millisecond.
    for (const line of lines) {
      expect(Date.parse(line.time as string)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(line.time as string)).toBeLessThanOrEqual(after);
    }
    // The process logger itself still redacts: `*.value` is one of its paths.
    expect(lines[1]).toMatchObject({ reqId: 'r-2', tokens: { value: '[redacted]' } });
  });

  it("follows the process logger's level, also when it changes later", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'warn', destination });
    const facts = withoutRedaction(logger);
    facts.info({}, 'hidden');
    expect(facts.isLevelEnabled('info')).toBe(false);
    logger.level = 'debug';
    facts.debug({}, 'shown');
    expect(facts.isLevelEnabled('info')).toBe(true);
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });

  it('leaves the redaction of every other line in place', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    withoutRedaction(logger);
    logger.error(
      {
        err: new Error('upstream refused'),
        headers: { authorization: 'Bearer sk-secret-0001', 'x-api-key': 'sk-secret-0002', 'x-identity-header': 'sk-secret-0005' },
        req: { headers: { authorization: 'Bearer sk-secret-0003' } },
        key: { value: 'sk-secret-0004' },
        form: { client_assertion: 'sk-secret-0006' },
      },
      'failed',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['sk-secret-0001', 'sk-secret-0002', 'sk-secret-0003', 'sk-secret-0004', 'sk-secret-0005', 'sk-secret-0006']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});

describe('createLogger redaction of errors', () => {
  it('hides the credential headers an HTTP client error carries, on itself or on its request', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    const error = Object.assign(new Error('request failed'), {
      headers: { authorization: 'Bearer sk-secret-0005', 'api-key': 'sk-secret-0006', accept: 'application/json' },
      request: { headers: { 'x-api-key': 'sk-secret-0007', 'x-goog-api-key': 'sk-secret-0008' } },
    });
    logger.error({ err: error }, 'upstream failed');
    const text = JSON.stringify(lines);
    for (const secret of ['sk-secret-0005', 'sk-secret-0006', 'sk-secret-0007', 'sk-secret-0008']) expect(text).not.toContain(secret);
    expect(lines[0]!.err.headers.accept).toBe('application/json');
  });
});

describe('createLogger with the default destination', () => {
  it('writes a line that fills no buffer by itself while the process runs on, without waiting for more lines or the exit', async () => {
    // A child process logging one short line to its standard output and then staying alive: without the periodic
    // flush the line would wait in its batch until the process ended, and this test would time out.
    const { spawn } = await import('node:child_process');
    const script = [
      "const { createLogger } = await import('./src/server/logger.ts');",
      "createLogger({ level: 'info' }).info({ reqId: 'r-quiet' }, 'request');",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Also when the test fails by its timeout: the child would otherwise outlive the run.
    onTestFinished(() => {
      child.kill();
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (data: Buffer) => {
        text += String(data);
        if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
      });
      child.once('exit', (code) => reject(new Error(`the logging process ended (${code}) before writing its line`)));
    });
    expect(JSON.parse(line)).toMatchObject({ level: 30, service: 'tollgate', reqId: 'r-quiet', msg: 'request' });
  }, 20_000);
});
