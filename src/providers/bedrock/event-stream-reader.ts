/**
 * Reading a Bedrock event stream (`application/vnd.amazon.eventstream`, the binary frames of ConverseStream and
 * InvokeModelWithResponseStream): bytes in as they arrive, each whole frame out as its event type and JSON payload,
 * or the error that ends the stream (an exception or error frame, a corrupt or impossible frame).
 */
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { isRecord } from '../../spec/json-value.js';
import type { UpstreamError } from '../../spec/provider.js';
import { mapBedrockError } from './bedrock-errors.js';

/** A frame's prelude: total length, headers length, prelude CRC. */
const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC: the smallest possible frame. */
const MINIMUM_FRAME_BYTES = 16;
/** Bedrock frames are small; a larger length means the bytes are not an event stream. */
const MAXIMUM_FRAME_BYTES = 16 * 1024 * 1024;

/** One frame read: an event (its `:event-type` and JSON object payload), or the error that ends the stream. */
export type BedrockStreamItem = { kind: 'event'; type: string | undefined; payload: Record<string, unknown> } | { kind: 'error'; error: UpstreamError };

/** The error of a stream that is not a sound event stream. */
export function brokenStream(message: string): UpstreamError {
  return { status: 502, type: 'server_error', code: 'upstream_stream_error', message, param: null };
}

/** Reads one stream's frames; after the first error it reads nothing more. */
export class BedrockEventStreamReader {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;

  /** Feeds bytes split anywhere; returns the frames they complete. */
  push(data: Uint8Array): BedrockStreamItem[] {
    if (this.ended || data.byteLength === 0) return [];
    this.pending = concat(this.pending, data);
    const items: BedrockStreamItem[] = [];
    while (!this.ended && this.pending.byteLength >= PRELUDE_BYTES) {
      const view = new DataView(this.pending.buffer, this.pending.byteOffset, this.pending.byteLength);
      const total = view.getUint32(0, false);
      if (total < MINIMUM_FRAME_BYTES || total > MAXIMUM_FRAME_BYTES) {
        items.push(this.end(brokenStream(`Bedrock sent an invalid event-stream frame length (${total}).`)));
        break;
      }
      if (this.pending.byteLength < total) break;
      const frame = this.pending.subarray(0, total);
      this.pending = this.pending.slice(total);
      let message: Message;
      try {
        message = this.codec.decode(frame);
      } catch {
        items.push(this.end(brokenStream('Bedrock sent a corrupt event-stream frame (checksum mismatch).')));
        break;
      }
      items.push(this.read(message));
    }
    return items;
  }

  /** The stream's bytes ended: the error of a frame left half-sent, if any. */
  finish(): UpstreamError | undefined {
    if (this.ended || this.pending.byteLength === 0) return undefined;
    const error = brokenStream('The Bedrock stream ended in the middle of an event-stream frame.');
    this.end(error);
    return error;
  }

  private read(message: Message): BedrockStreamItem {
    const messageType = stringHeader(message, ':message-type') ?? 'event';
    const text = toUtf8(message.body);
    if (messageType === 'error') {
      const code = stringHeader(message, ':error-code');
      const detail = stringHeader(message, ':error-message') ?? text;
      return this.end(mapBedrockError(code, 500, detail || 'Bedrock reported a stream error.'));
    }
    let payload: unknown;
    try {
      payload = text === '' ? {} : JSON.parse(text);
    } catch {
      return this.end(brokenStream('Bedrock sent an event whose payload is not JSON.'));
    }
    if (messageType === 'exception') {
      const name = stringHeader(message, ':exception-type');
      const detail = isRecord(payload) && typeof payload.message === 'string' ? payload.message : (name ?? 'Bedrock reported an exception.');
      return this.end(mapBedrockError(name, 500, detail));
    }
    // Every event's payload is an object; another payload is a broken stream, not an event to skip.
    if (!isRecord(payload)) return this.end(brokenStream('Bedrock sent an event whose payload is not a JSON object.'));
    return { kind: 'event', type: stringHeader(message, ':event-type'), payload };
  }

  private end(error: UpstreamError): { kind: 'error'; error: UpstreamError } {
    this.ended = true;
    this.pending = new Uint8Array(0);
    return { kind: 'error', error };
  }
}

function stringHeader(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header !== undefined && header.type === 'string' ? header.value : undefined;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.byteLength === 0) return second.slice();
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return joined;
}
