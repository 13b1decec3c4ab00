import { describe, expect, it } from 'vitest';
import { untilAborted } from './until-aborted.js';

describe('untilAborted', () => {
  it('settles with the promise when the signal does not abort', async () => {
    await expect(untilAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('failed')), undefined)).rejects.toThrow('failed');
  });

  it('rejects with the reason as soon as the signal aborts, leaving the shared work running', async () => {
    let finish: (value: string) => void = () => {};
    const shared = new Promise<string>((resolve) => {
      finish = resolve;
    });
    const controller = new AbortController();
    const waiting = untilAborted(shared, controller.signal);
    controller.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
    finish('token');
    await expect(shared).resolves.toBe('token');
  });

  it('rejects at once for a signal that already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(untilAborted(new Promise(() => {}), controller.signal)).rejects.toThrow('gone');
  });
});
