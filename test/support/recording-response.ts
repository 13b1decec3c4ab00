import { EventEmitter } from 'node:events';

/** What the writer does to a response, recorded; `write` answers as `accepts` says (false: the buffer is full). */
export class RecordingResponse extends EventEmitter {
  calls: Array<{ method: string; text?: string }> = [];
  accepts = true;
  writableEnded = false;
  destroyed = false;

  writeHead(status: number) {
    this.calls.push({ method: 'writeHead', text: String(status) });
    return this;
  }

  flushHeaders() {
    this.calls.push({ method: 'flushHeaders' });
  }

  write(text: string) {
    this.calls.push({ method: 'write', text });
    return this.accepts;
  }

  end(text?: string) {
    this.writableEnded = true;
    this.calls.push(text === undefined ? { method: 'end' } : { method: 'end', text });
    return this;
  }

  sent(): string[] {
    return this.calls.filter((call) => call.method !== 'writeHead').map((call) => (call.text === undefined ? call.method : `${call.method}:${call.text}`));
  }
}
