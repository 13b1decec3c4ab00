import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A line still unfinished past this many characters is passed on as it is (ended with a newline), not held further. */
const longestHeldLine = 1024 * 1024;

/**
 * Passes what a source (a child process's standard output) writes to `write`, whole lines at a time: each call
 * gets text that ends with a newline and starts where a line starts, never part of a line, so that lines relayed
 * from several sources into one writer never mix. UTF-8 characters split between reads are joined first. What is
 * left without a newline when the source ends is passed on with one. Resolves once the source has ended, closed
 * or failed, after passing on everything it delivered.
 */
export function relayLines(source: Readable, write: (lines: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let unfinished = '';
  source.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      unfinished += text;
      if (unfinished.length > longestHeldLine) {
        write(`${unfinished}\n`);
        unfinished = '';
      }
      return;
    }
    const whole = unfinished + text.slice(0, lastNewline + 1);
    unfinished = text.slice(lastNewline + 1);
    write(whole);
  });
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const rest = unfinished + decoder.end();
      unfinished = '';
      if (rest.length > 0) write(rest.endsWith('\n') ? rest : `${rest}\n`);
      resolve();
    };
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  });
}
