/** Where the bench's tools keep what they measured: bench/results/, one file a run, named after its time. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDirectory = fileURLToPath(new URL('../results/', import.meta.url));

/**
 * Writes a tool's report to bench/results/<time>-<name>.md (the time in UTC to the second, with dashes for colons,
 * as the full runs name theirs) and answers the file's path relative to the repository.
 */
export function writeResultFile(name: string, text: string): string {
  mkdirSync(resultsDirectory, { recursive: true });
  const file = path.join(resultsDirectory, `${new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}-${name}.md`);
  writeFileSync(file, text);
  return path.relative(path.join(resultsDirectory, '..', '..'), file);
}
