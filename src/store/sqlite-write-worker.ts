/**
 * The thread behind {@link SqliteWriteThread}: its own connection to the SQLite file, running the writes that
 * requests cause. Their commits, and the checkpoints that follow some of them with two fsyncs each, block this
 * thread instead of the event loop that serves requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { prepareSqliteWrites, type SqliteWrite } from './sqlite-writes.js';

export interface WriteWorkerData {
  file: string;
  busyTimeoutMs: number;
}

export type WriteWorkerRequest = { kind: 'write'; id: number; write: SqliteWrite } | { kind: 'close' };
export type WriteWorkerReply = { kind: 'written'; id: number } | { kind: 'failed'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('sqlite-write-worker runs as a worker thread of SqliteWriteThread');
const { file, busyTimeoutMs } = workerData as WriteWorkerData;
const connection = new SQLite(file, { fileMustExist: true });
connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
connection.pragma('foreign_keys = ON');
// Prepared at the first write, not at start: a statement that cannot be prepared yet fails that write, not the thread.
let run: ((write: SqliteWrite) => void) | undefined;

port.on('message', (request: WriteWorkerRequest) => {
  if (request.kind === 'close') {
    connection.close();
    port.close();
    return;
  }
  let reply: WriteWorkerReply;
  try {
    run ??= prepareSqliteWrites(connection);
    run(request.write);
    reply = { kind: 'written', id: request.id };
  } catch (error) {
    reply = { kind: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
