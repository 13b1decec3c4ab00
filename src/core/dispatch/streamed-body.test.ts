import { describe, expect, it } from 'vitest';
import { StreamedBody, type FlowControl } from './streamed-body.js';

/** A dispatch controller that records what the body asked of it. */
class RecordingControl implements FlowControl {
  paused = false;
  calls: string[] = [];
  abortedWith: Error | undefined;

  pause(): void {
    this.paused = true;
    this.calls.push('pause');
  }

  resume(): void {
    this.paused = false;
    this.calls.push('resume');
  }

  abort(reason: Error): void {
    this.abortedWith = reason;
    this.calls.push('abort');
  }
}

const classified = (error: unknown) => new Error(`classified: ${(error as Error).message}`);

function bodyWith(highWaterMark?: number): { body: StreamedBody; control: RecordingControl } {
  const control = new RecordingControl();
  const body = new StreamedBody(classified, { highWaterMark });
  body.attach(control);
  return { body, control };
}

async function readAllText(body: StreamedBody): Promise<string[]> {
  const reads: string[] = [];
  for await (const chunk of body) reads.push(Buffer.from(chunk).toString());
  return reads;
}

describe('StreamedBody', () => {
  it('hands over the chunks of one synchronous burst as one read, then ends', async () => {
    const { body } = bodyWith();
    const reading = readAllText(body);
    // What one socket read looks like: several chunks and the end, within one run of undici's parser.
    body.push(Buffer.from('data: 1\n\n'));
    body.push(Buffer.from('data: 2\n\n'));
    body.end();
    expect(await reading).toEqual(['data: 1\n\ndata: 2\n\n']);
  });

  it('gives what was queued before the reader came, and waits for what comes later', async () => {
    const { body } = bodyWith();
    body.push(Buffer.from('early'));
    const iterator = body[Symbol.asyncIterator]();
    expect(Buffer.from((await iterator.next()).value!).toString()).toBe('early');
    const pending = iterator.next();
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    body.push(Buffer.from('late'));
    expect(Buffer.from((await pending).value!).toString()).toBe('late');
    body.end();
    expect((await iterator.next()).done).toBe(true);
  });

  it('pauses the upstream past the high-water mark and resumes it once the reader has taken the bytes', async () => {
    const { body, control } = bodyWith(8);
    body.push(Buffer.from('12345'));
    expect(control.calls).toEqual([]);
    body.push(Buffer.from('6789'));
    expect(control.calls).toEqual(['pause']);
    const first = await body.next();
    expect(Buffer.from(first.value!).toString()).toBe('123456789');
    expect(control.calls).toEqual(['pause', 'resume']);
  });

  it('throws the classified failure after the bytes that came before it', async () => {
    const { body } = bodyWith();
    body.push(Buffer.from('partial'));
    body.fail(new Error('socket hang up'));
    const reads: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of body) reads.push(Buffer.from(chunk).toString());
      })(),
    ).rejects.toThrow('classified: socket hang up');
    expect(reads).toEqual(['partial']);
  });

  it('aborts the upstream when the reader leaves early, and not when the body had ended', async () => {
    const running = bodyWith();
    running.body.push(Buffer.from('data: 1\n\n'));
    for await (const chunk of running.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    expect(running.control.calls).toEqual(['abort']);
    expect((await running.body.next()).done).toBe(true);

    const ended = bodyWith();
    ended.body.push(Buffer.from('all'));
    ended.body.end();
    expect(await readAllText(ended.body)).toEqual(['all']);
    ended.body.discard();
    expect(ended.control.calls).toEqual([]);
  });

  it('ends a waiting read when the body is discarded', async () => {
    const { body, control } = bodyWith();
    const pending = body.next();
    body.discard();
    expect((await pending).done).toBe(true);
    expect(control.calls).toEqual(['abort']);
  });

  it('reads the rest of the body whole', async () => {
    const { body } = bodyWith();
    const whole = body.readAll();
    body.push(Buffer.from('{"error":'));
    await Promise.resolve();
    await Promise.resolve();
    body.push(Buffer.from('"rate limited"}'));
    body.end();
    expect(Buffer.from(await whole).toString()).toBe('{"error":"rate limited"}');
  });

  it('reads a body whole up to its bound, and beyond it aborts the transfer with a 502', async () => {
    const control = new RecordingControl();
    const atBound = new StreamedBody(classified, { maxReplyBytes: 8 });
    atBound.attach(control);
    const whole = atBound.readAll();
    atBound.push(Buffer.from('1234'));
    atBound.push(Buffer.from('5678'));
    atBound.end();
    expect(Buffer.from(await whole).toString()).toBe('12345678');

    const beyond = new StreamedBody(classified, { maxReplyBytes: 8 });
    beyond.attach(control);
    const refused = beyond.readAll();
    beyond.push(Buffer.from('12345'));
    await Promise.resolve();
    await Promise.resolve();
    beyond.push(Buffer.from('6789'));
    await expect(refused).rejects.toMatchObject({ status: 502, code: 'upstream_response_too_large' });
    expect(control.calls).toEqual(['abort']);
  });

  it('reads by callback: at once when something is ready, else once per burst, then the end or the failure', async () => {
    const { body } = bodyWith();
    const seen: string[] = [];
    const reader = {
      bodyData: (bytes: Uint8Array) => seen.push(`data ${Buffer.from(bytes).toString()}`),
      bodyEnd: () => seen.push('end'),
      bodyError: (error: unknown) => seen.push(`error ${(error as Error).message}`),
    };
    body.push(Buffer.from('ready'));
    body.read(reader);
    expect(seen).toEqual(['data ready']);

    body.read(reader);
    expect(() => body.read(reader)).toThrow('one read at a time');
    body.push(Buffer.from('a'));
    body.push(Buffer.from('b'));
    expect(seen).toHaveLength(1);
    await Promise.resolve();
    expect(seen).toEqual(['data ready', 'data ab']);

    body.fail(new Error('reset'));
    body.read(reader);
    expect(seen.at(-1)).toBe('error classified: reset');

    const ended = bodyWith().body;
    ended.end();
    ended.read(reader);
    expect(seen.at(-1)).toBe('end');
  });
});
