import type { Readable } from 'node:stream';

/** A line still unfinished past this many bytes is passed on as it is (ended with a newline), not held further. */
const longestHeldLine = 1024 * 1024;
const newline = 0x0a;

/**
 * Passes what a source (a child process's standard output) writes to `write`, whole lines at a time: each call
 * gets bytes that end with a newline and start where a line starts, never part of a line, so that lines relayed
 * from several sources into one writer never mix. The bytes are cut at newlines without being decoded: in UTF-8 a
 * newline byte is never part of another character, so a character split between reads is joined by the cut itself.
 * What is left without a newline when the source ends is passed on with one. Resolves once the source has ended,
 * closed or failed, after passing on everything it delivered.
 */
export function relayLines(source: Readable, write: (lines: Buffer) => void): Promise<void> {
  // The reads of a line not yet ended, joined once its newline arrives (not at every read: a long line would be
  // copied again with each of its reads).
  let unfinished: Buffer[] = [];
  let unfinishedBytes = 0;
  /** Writes what is held followed by `ending` (the rest of the line, or the newline it is given), and holds nothing. */
  const passOn = (ending: Buffer): void => {
    write(unfinished.length === 0 ? ending : Buffer.concat([...unfinished, ending]));
    unfinished = [];
    unfinishedBytes = 0;
  };
  source.on('data', (chunk: Buffer) => {
    const end = chunk.lastIndexOf(newline) + 1;
    if (end > 0) passOn(chunk.subarray(0, end));
    if (end < chunk.length) {
      unfinished.push(chunk.subarray(end));
      unfinishedBytes += chunk.length - end;
      if (unfinishedBytes > longestHeldLine) passOn(Buffer.of(newline));
    }
  });
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (unfinished.length > 0) passOn(Buffer.of(newline));
      resolve();
    };
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  });
}
