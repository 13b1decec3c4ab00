import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_CACHE_KIB, sqliteConnectionOf, openDatabase } from './database.js';
import { WalCheckpointer } from './wal-checkpointer.js';

const directories: string[] = [];
const connections: SQLite.Database[] = [];

function temporaryDatabase(): { file: string; connection: SQLite.Database } {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
  directories.push(directory);
  const file = path.join(directory, 'test.db');
  const connection = new SQLite(file);
  connection.pragma('journal_mode = WAL');
  connection.exec('create table pages (id integer primary key, payload blob not null)');
  connections.push(connection);
  return { file, connection };
}

/** Commits `count` rows of 4 KB each, one transaction per 100: about one WAL page a row. */
function writeRows(connection: SQLite.Database, count: number): void {
  const insert = connection.prepare('insert into pages (payload) values (?)');
  const batch = connection.transaction((rows: number) => {
    for (let index = 0; index < rows; index += 1) insert.run(Buffer.alloc(4000, index % 251));
  });
  for (let written = 0; written < count; written += 100) batch(Math.min(100, count - written));
}

afterEach(() => {
  for (const connection of connections.splice(0)) if (connection.open) connection.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

// An hour: the timer never fires during a test, so every checkpoint here is one the test asked for.
const noTimer = { intervalMs: 3_600_000 };

describe('WalCheckpointer', () => {
  it('stops the connection from checkpointing at its commits, and checkpoints on its own thread', async () => {
    const { file, connection } = temporaryDatabase();
    const checkpointer = new WalCheckpointer(connection, file, noTimer);
    try {
      expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      writeRows(connection, 1_500);
      // SQLite's own checkpoint would have run at the commit that took the log past 1,000 pages.
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(1_400 * 4096);
      const first = await checkpointer.checkpoint();
      expect(first.busy).toBe(0);
      expect(first.log).toBeGreaterThan(1_400);
      expect(first.checkpointed).toBe(first.log);
      // The rows are in the database file itself now, readable by a connection that ignores the log.
      expect(statSync(file).size).toBeGreaterThan(1_400 * 4096);
      // A complete checkpoint lets the next commit write the log from its start: the log holds that commit only,
      // and its file does not grow.
      const logBytes = statSync(`${file}-wal`).size;
      writeRows(connection, 10);
      const second = await checkpointer.checkpoint();
      expect(second.log).toBeLessThan(100);
      expect(statSync(`${file}-wal`).size).toBe(logBytes);
    } finally {
      await checkpointer.close();
    }
  });

  it('hands the connection back to SQLite\'s own checkpoints when its thread fails', async () => {
    const { file, connection } = temporaryDatabase();
    let reportFailure: (error: Error) => void = () => undefined;
    const failure = new Promise<Error>((resolve) => {
      reportFailure = resolve;
    });
    // A file that does not exist: the thread's own connection cannot open it.
    const checkpointer = new WalCheckpointer(connection, `${file}.missing`, { ...noTimer, onFailure: (error) => reportFailure(error) });
    expect(await failure).toBeInstanceOf(Error);
    expect(checkpointer.active).toBe(false);
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await expect(checkpointer.checkpoint()).rejects.toThrow(/not running/);
    await checkpointer.close();
  });

  it('finishes closing in a process that has nothing else left to do', () => {
    const { file, connection } = temporaryDatabase();
    connection.close();
    // The thread does not keep a process alive; a close awaited as a process's last work (a start-up that prepares the
    // store and closes it) must still see the thread end rather than the process end under it.
    const script = [
      "import SQLite from 'better-sqlite3';",
      `import { WalCheckpointer } from ${JSON.stringify(new URL('./wal-checkpointer.ts', import.meta.url).pathname)};`,
      `const connection = new SQLite(${JSON.stringify(file)});`,
      'const checkpointer = new WalCheckpointer(connection, connection.name);',
      'await checkpointer.close();',
      'connection.close();',
      "console.log('closed');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('closed');
    expect(child.status).toBe(0);
  });

  it('ends its thread on close, after which it checkpoints no more', async () => {
    const { file, connection } = temporaryDatabase();
    const checkpointer = new WalCheckpointer(connection, file, noTimer);
    await checkpointer.checkpoint();
    await checkpointer.close();
    await checkpointer.close();
    expect(checkpointer.active).toBe(false);
    await expect(checkpointer.checkpoint()).rejects.toThrow(/not running/);
  });
});

describe('openDatabase on SQLite', () => {
  it('checkpoints on a thread by default, in WAL mode with NORMAL syncing', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
    directories.push(directory);
    const database = await openDatabase({ dataDir: directory });
    try {
      const connection = sqliteConnectionOf(database.db)!;
      expect(connection.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(connection.pragma('synchronous', { simple: true })).toBe(1);
      expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    } finally {
      await database.close();
    }
  });

  it("keeps SQLite's own 2 MB page cache, not the 16 MB better-sqlite3 builds in", async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
    directories.push(directory);
    const database = await openDatabase({ dataDir: directory });
    try {
      // A negative cache_size is in KiB.
      expect(sqliteConnectionOf(database.db)!.pragma('cache_size', { simple: true })).toBe(-SQLITE_CACHE_KIB);
      expect(SQLITE_CACHE_KIB).toBe(2000);
      // What the library's build would otherwise give every connection.
      const bare = new SQLite(':memory:');
      expect(bare.pragma('cache_size', { simple: true })).toBe(-16000);
      bare.close();
    } finally {
      await database.close();
    }
  });

  it('leaves checkpoints to SQLite when asked to', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
    directories.push(directory);
    const database = await openDatabase({ dataDir: directory, backgroundCheckpoints: false });
    try {
      expect(sqliteConnectionOf(database.db)!.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await database.close();
    }
  });
});
