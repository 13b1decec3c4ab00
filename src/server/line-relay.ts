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
  let unfinished: Buffer | undefined;
  source.on('data', (chunk: Buffer) => {
    const bytes = unfinished === undefined ? chunk : Buffer.concat([unfinished, chunk]);
    const end = bytes.lastIndexOf(newline) + 1;
    if (end > 0) write(bytes.subarray(0, end));
    unfinished = end < bytes.length ? bytes.subarray(end) : undefined;
    if (unfinished !== undefined && unfinished.length > longestHeldLine) {
      write(Buffer.concat([unfinished, Buffer.of(newline)]));
      unfinished = undefined;
    }
  });
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (unfinished !== undefined) write(Buffer.concat([unfinished, Buffer.of(newline)]));
      unfinished = undefined;
      resolve();
    };
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  });
}
