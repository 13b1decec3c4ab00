/** Command-line flags and the process layout shared by the bench's single-purpose tools (profile, floor, node-flags). */
import os from 'node:os';
import { canPin, pin, setNiceness } from './processes.js';

/** The value of `--name=value` on the command line, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const found = process.argv.slice(2).find((argument) => argument.startsWith(`--${name}=`));
  return found ? found.slice(name.length + 3) : fallback;
}

/** Where the gateway under test and the load (mock, load generator, the tool itself) run; undefined: not pinned. */
export interface CoreLayout {
  gatewayCores: string | undefined;
  loadCores: string | undefined;
}

/**
 * Applies `--nice` to this process and what it starts, and pins this process to the load cores: the gateway alone
 * on core 0, everything else on the other cores, as `npm run bench` does (nothing is pinned without taskset or
 * with a single core).
 */
export function setUpTool(): CoreLayout {
  const nice = Number(flag('nice', '0'));
  if (nice !== 0) {
    setNiceness(nice);
    os.setPriority(nice);
  }
  const cores = os.availableParallelism();
  if (!canPin() || cores < 2) return { gatewayCores: undefined, loadCores: undefined };
  const loadCores = cores > 2 ? `1-${cores - 1}` : '1';
  pin(process.pid, loadCores);
  return { gatewayCores: '0', loadCores };
}
