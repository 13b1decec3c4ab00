import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { BatchedDestination, type BatchTarget } from './batched-destination.js';

function recordingTarget() {
  const calls: string[] = [];
  const target: BatchTarget = {
    write: (text: string) => calls.push(`write:${text}`),
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
  it('holds lines until the batch is full, then hands them on as one string, in order', () => {
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchLength: 10, flushMs: 60_000 });
    onTestFinished(() => destination.end());
    destination.write('abc\n');
    destination.write('def\n');
    expect(calls).toEqual([]);
    destination.write('ghi\n');
    expect(calls).toEqual(['write:abc\ndef\nghi\n']);
    destination.write('jkl\n');
    expect(calls).toHaveLength(1);
  });

  it('hands on waiting lines after flushMs however few they are', () => {
    vi.useFakeTimers();
    const { calls, target } = recordingTarget();
    const destination = new BatchedDestination(target, { batchLength: 32 * 1024, flushMs: 250 });
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
    const destination = new BatchedDestination(target, { batchLength: 1024, flushMs: 60_000 });
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
