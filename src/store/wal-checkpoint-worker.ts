/**
 * The thread behind {@link WalCheckpointer}: its own connection to the SQLite file, looking at the write-ahead log
 * every `intervalMs` and copying it into the database (a passive checkpoint: it never waits for, nor blocks, the
 * writer) once `thresholdFrames` frames wait. The fsyncs of a checkpoint then block this thread, not the event loop
 * that serves requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
  thresholdFrames: number;
}

/** What SQLite's `wal_checkpoint` pragma answers: frames in the log and frames copied into the database. */
export interface CheckpointState {
  busy: number;
  log: number;
  checkpointed: number;
}

export type CheckpointerRequest = { kind: 'checkpoint'; id: number } | { kind: 'close' };
export type CheckpointerReply = { kind: 'checkpointed'; id: number; state: CheckpointState } | { kind: 'failed'; id?: number; message: string };

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-worker runs as a worker thread of WalCheckpointer');
const { file, intervalMs, thresholdFrames } = workerData as CheckpointerData;
const connection = new SQLite(file, { fileMustExist: true });

function checkpoint(force: boolean): CheckpointState {
  if (!force) {
    const [waiting] = connection.pragma('wal_checkpoint(NOOP)') as CheckpointState[];
    if (waiting!.log - waiting!.checkpointed < thresholdFrames) return waiting!;
  }
  const [state] = connection.pragma('wal_checkpoint(PASSIVE)') as CheckpointState[];
  return state!;
}

function failure(error: unknown, id?: number): CheckpointerReply {
  return { kind: 'failed', ...(id === undefined ? {} : { id }), message: error instanceof Error ? error.message : String(error) };
}

const timer = setInterval(() => {
  try {
    checkpoint(false);
  } catch (error) {
    port.postMessage(failure(error));
  }
}, intervalMs);

port.on('message', (request: CheckpointerRequest) => {
  if (request.kind === 'close') {
    clearInterval(timer);
    connection.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ kind: 'checkpointed', id: request.id, state: checkpoint(true) } satisfies CheckpointerReply);
  } catch (error) {
    port.postMessage(failure(error, request.id));
  }
});
