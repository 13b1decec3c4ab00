import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { BatchedDestination, type BatchTarget } from './batched-destination.js';

function recordingTarget() {
  const calls: string[] = [];
  const target: BatchTarget = {
    write: (bytes: Buffer) => calls.push(`write:${bytes.toString('utf8')}`),
    flush: (callback) => {
      calls.push('flush');
      callback?.();
    },
    flushSync: () => calls.push('flushSync'),
    end: () => calls.push('end'),
  };
  return { calls, target };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('BatchedDestination', () => {
  it('holds lines until the next might not fit, then hands them on as one write, in order', () => {
    const { calls, target } = recordingTarget();
    // A line of n characters is taken while 3n bytes are free (the most UTF-8 may need): in 20 bytes, three of four.
    const destination = new BatchedDestination(target, { batchBytes: 20, flushMs: 60_000 });
    onTestFinished(() => destination.end());
    destination.write('abc\n');
    destination.write('def\n');
    destination.write('ghi\n');
    expect(calls).toEqual([]);
    destination.write('jkl\n');
    expect(calls).toEqual(['write:abc\ndef\nghi\n']);
    destination.handOn();
    expect(calls).toEqual(['write:abc\ndef\nghi\n', 'write:jkl\n']);
  });

  it('writes UTF-8 intact, and a line longer than a batch on its own after the lines before it', () => {
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchBytes: 16, flushMs: 60_000 });
    onTestFinished(() => destination.end());
    destination.write('é€\n');
    const long = `${'x'.repeat(30)}\n`;
    destination.write(long);
    destination.write('😀\n');
    destination.handOn();
    expect(calls).toEqual(['write:é€\n', `write:${long}`, 'write:😀\n']);
  });

  it('never writes over bytes handed on, whether the batch was full or handed on early', () => {
    const handed: Buffer[] = [];
    const destination = new BatchedDestination({ write: (bytes: Buffer) => handed.push(bytes) }, { batchBytes: 24, flushMs: 60_000 });
    onTestFinished(() => destination.end());
    // Handed on early (a sixth full): copied out, and the buffer kept for the next lines.
    destination.write('one\n');
    destination.handOn();
    destination.write('two\n');
    destination.handOn();
    // Four lines fill it past half; the fifth might not fit, so the buffer itself goes and a new one takes the fifth.
    for (const line of ['abc\n', 'def\n', 'ghi\n', 'jkl\n', 'mno\n']) destination.write(line);
    destination.handOn();
    expect(handed.map((bytes) => bytes.toString('utf8'))).toEqual(['one\n', 'two\n', 'abc\ndef\nghi\njkl\n', 'mno\n']);
  });

  it('takes lines already in UTF-8 as well, copied, batched with the text lines in order', () => {
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchBytes: 16, flushMs: 60_000 });
    onTestFinished(() => destination.end());
    const relayed = Buffer.from('b€\n', 'utf8');
    destination.write('a\n');
    destination.writeBytes(relayed);
    relayed.fill(0x78);
    destination.writeBytes(Buffer.from(`${'y'.repeat(20)}\n`));
    destination.handOn();
    expect(calls).toEqual(['write:a\nb€\n', `write:${'y'.repeat(20)}\n`]);
  });

  it('hands on waiting lines after flushMs however few they are', () => {
    vi.useFakeTimers();
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchBytes: 32 * 1024, flushMs: 250 });
    onTestFinished(() => destination.end());
    destination.write('one\n');
    vi.advanceTimersByTime(249);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['write:one\n']);
    // Nothing waiting: the next tick writes nothing.
    vi.advanceTimersByTime(250);
    expect(calls).toHaveLength(1);
  });

  it('hands on waiting lines before flush, flushSync and end reach the target, and drops lines written after end', () => {
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchBytes: 1024, flushMs: 60_000 });
    const flushed = vi.fn();
    destination.write('a\n');
    destination.flush(flushed);
    destination.write('b\n');
    destination.flushSync();
    destination.write('c\n');
    destination.end();
    expect(destination.write('d\n')).toBe(false);
    destination.handOn();
    expect(calls).toEqual(['write:a\n', 'flush', 'write:b\n', 'flushSync', 'write:c\n', 'end']);
    expect(flushed).toHaveBeenCalledOnce();
  });

  it("writes the lines still waiting when the process exits, through pino's destination", async () => {
    // A child logs two lines through the default logger and exits at once: both lines are in the batch then, and
    // must reach standard output (handed on by the exit listener, written by pino's own exit flush).
    const script = [
      "const { createLogger } = await import('./src/server/logger.ts');",
      "const logger = createLogger({ level: 'info' });",
      "logger.info({ reqId: 'r-1' }, 'request');",
      "logger.info({ reqId: 'r-2' }, 'request');",
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => {
      child.kill();
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += String(data);
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { reqId: string; msg: string });
    expect(lines.map((line) => line.reqId)).toEqual(['r-1', 'r-2']);
  }, 20_000);
});
