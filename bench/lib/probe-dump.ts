/** Reading what a probe preloaded into a gateway under test (`node --import …`) writes when it is signalled. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

/**
 * Sends the process SIGUSR2, on which its probe writes what it saw since the last signal to `file` as JSON (and
 * starts again), and reads that file once it is there. `label` names the probe in the error when it writes nothing.
 */
export async function dumpProbe<Summary>(child: ChildProcess, file: string, label: string): Promise<Summary> {
  rmSync(file, { force: true });
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 5_000; waited += 20) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Summary;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`${label} wrote nothing`);
}
