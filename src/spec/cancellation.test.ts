import { describe, expect, it, vi } from 'vitest';
import { abortSignalOf, Cancellation } from './cancellation.js';

describe('Cancellation', () => {
  it('runs each listener once, in order, when aborted; later aborts change nothing', () => {
    const cancellation = new Cancellation();
    const calls: string[] = [];
    cancellation.addEventListener('abort', () => calls.push('first'));
    cancellation.addEventListener('abort', () => calls.push('second'), { once: true });
    expect(cancellation.aborted).toBe(false);
    cancellation.abort();
    cancellation.abort(new Error('again'));
    expect(calls).toEqual(['first', 'second']);
    expect(cancellation.aborted).toBe(true);
    expect((cancellation.reason as DOMException).name).toBe('AbortError');
  });

  it('does not run a removed listener, nor one added after the abort', () => {
    const cancellation = new Cancellation();
    const removed = vi.fn();
    const late = vi.fn();
    cancellation.addEventListener('abort', removed);
    cancellation.removeEventListener('abort', removed);
    cancellation.removeEventListener('abort', () => undefined);
    cancellation.abort('gone');
    cancellation.addEventListener('abort', late);
    expect(removed).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
    expect(cancellation.reason).toBe('gone');
  });

  it('makes a standard AbortSignal only when asked, and it follows the cancellation before and after', () => {
    const before = new Cancellation();
    const signal = before.signal;
    expect(before.signal).toBe(signal);
    const onAbort = vi.fn();
    signal.addEventListener('abort', onAbort);
    before.abort('client left');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('client left');
    expect(onAbort).toHaveBeenCalledTimes(1);

    const after = new Cancellation();
    after.abort('early');
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe('early');
  });
});

describe('abortSignalOf', () => {
  it('hands a standard signal back as it is and a Cancellation its own signal', () => {
    const controller = new AbortController();
    expect(abortSignalOf(controller.signal)).toBe(controller.signal);
    const cancellation = new Cancellation();
    expect(abortSignalOf(cancellation)).toBe(cancellation.signal);
  });
});
