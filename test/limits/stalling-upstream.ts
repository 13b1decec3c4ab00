/**
 * An OpenAI-compatible upstream whose chat streams send a role chunk and a few words, then stall until the
 * client leaves: for a client that aborts mid-stream. `whenStreaming()` resolves when the n-th stream has sent
 * its first chunks and `whenAborted()` when the n-th stalled stream's client disconnected, so tests wait on
 * those events and never on a timer. It sends no usage, as an upstream cut off mid-reply has none to send.
 * Unlike the stalling stream mock, it answers every path, and keeps no record of requests.
 */
import { EventCounter, startMockServer } from '../mocks/mock-server.js';
import { writeStallingStream } from '../mocks/stalling-stream-mock.js';

export interface StallingUpstream {
  /** `http://127.0.0.1:<port>`, without `/v1`. */
  baseUrl: string;
  whenStreaming(): Promise<void>;
  whenAborted(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the upstream on an ephemeral loopback port. */
export async function startStallingUpstream(): Promise<StallingUpstream> {
  const counters = { streaming: new EventCounter(), aborted: new EventCounter() };
  const server = await startMockServer((_request, response, { json }) => {
    writeStallingStream(response, (json as { model?: string } | undefined)?.model ?? 'model', ['partial ', 'answer '], counters);
  });
  return {
    baseUrl: server.baseUrl,
    whenStreaming: () => counters.streaming.next(),
    whenAborted: () => counters.aborted.next(),
    close: server.close,
  };
}
