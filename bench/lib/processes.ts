/**
 * Child processes of the benchmark: spawning pinned to a core, waiting until they serve, reading their RSS and
 * CPU time from /proc, and stopping them by their own pid.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

let tasksetChecked: boolean | undefined;
let niceness = 0;

/**
 * Scheduling priority of every process the bench starts from now on (nice(1) value; below 0 needs root). On a
 * machine shared with other work, a negative value keeps that work from taking the measured cores' time.
 */
export function setNiceness(value: number): void {
  niceness = value;
}

/** True when `taskset` can pin processes on this machine (Linux with util-linux, more than one core). */
export function canPin(): boolean {
  if (tasksetChecked === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetChecked = os.availableParallelism() > 1;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked;
}

/** Pins a running process and all its threads to the given cores ("0" or "1-3"); false when pinning is unavailable. */
export function pin(pid: number, cores: string | undefined): boolean {
  if (!cores || !canPin()) return false;
  try {
    execFileSync('taskset', ['-a', '-cp', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface SpawnedProcess {
  child: ChildProcess;
  pid: number;
  name: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export interface PinnedSpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Cores to pin to (taskset -c); ignored when taskset is missing. */
  cores?: string;
  /** File that receives stdout and stderr; otherwise they are piped to the caller. */
  logFile?: string;
  ipc?: boolean;
}

/** Starts a process, pinned through `taskset -c` when available and niced when asked (the pid stays the program's). */
export function spawnPinned(options: PinnedSpawnOptions): SpawnedProcess {
  const pinned = options.cores !== undefined && canPin();
  // nice and taskset exec the next program, so the pid is the program's own and every thread inherits both.
  const prefix = [...(niceness !== 0 ? ['nice', '-n', String(niceness)] : []), ...(pinned ? ['taskset', '-c', options.cores!] : [])];
  const command = prefix.length > 0 ? prefix[0]! : options.command;
  const args = prefix.length > 0 ? [...prefix.slice(1), options.command, ...options.args] : options.args;
  const output = options.logFile ? openSync(options.logFile, 'a') : 'pipe';
  const stdio: SpawnOptions['stdio'] = options.ipc ? ['ignore', output, output, 'ipc'] : ['ignore', output, output];
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd(), stdio });
  // The child holds its own copy of the log file's descriptor.
  if (typeof output === 'number') closeSync(output);
  if (!child.pid) throw new Error(`${options.name} did not start`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid,
    name: options.name,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until something accepts TCP connections on the port, or fails after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, process?: SpawnedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process?.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${process?.name ?? 'process'} exited before listening on port ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

/** Reads the first line a piped child prints on stdout (e.g. the mock's `{"port": N}`). */
export function firstLine(child: ChildProcess, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('no output from child process')), timeoutMs);
    child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, newline));
      }
    });
    child.stderr?.on('data', (data: Buffer) => process.stderr.write(data));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing`)));
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ProcessSample {
  /** Resident set size (bytes). */
  rssBytes: number;
  /** User + system CPU time (ms). */
  cpuMs: number;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time (ms) from a /proc stat file of a process or a thread. */
function statCpuMs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** RSS and CPU time of a process from /proc (Linux); undefined elsewhere or when it is gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  const statFile = `/proc/${pid}/stat`;
  if (!existsSync(statFile)) return undefined;
  try {
    const cpuMs = statCpuMs(statFile);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { rssBytes: rssKb * 1024, cpuMs };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) of a process's main thread, which runs a Node process's event loop, and of all its other threads
 * together (V8's helpers, libuv's pool, workers); undefined off Linux or when the process is gone.
 */
export function sampleThreads(pid: number): { mainCpuMs: number; otherCpuMs: number } | undefined {
  try {
    const mainCpuMs = statCpuMs(`/proc/${pid}/task/${pid}/stat`);
    return { mainCpuMs, otherCpuMs: statCpuMs(`/proc/${pid}/stat`) - mainCpuMs };
  } catch {
    return undefined;
  }
}

/** Load average and core count, for the record of what else the machine was doing. */
export function machineLoad(): { loadAverage: number[]; cores: number } {
  return { loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100), cores: os.availableParallelism() };
}

/**
 * How an idle CPU waits here: the cpuidle driver and, in a KVM guest, how long an idle vCPU polls before it halts.
 * Serial latency hangs on it: waking a halted vCPU costs an interrupt and a VM entry on every hop between cores.
 */
export function cpuIdleBehaviour(): string {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const driver = read('/sys/devices/system/cpu/cpuidle/current_driver') ?? 'unknown';
  const haltPollNs = read('/sys/module/haltpoll/parameters/guest_halt_poll_ns');
  return haltPollNs === undefined ? `cpuidle ${driver}` : `cpuidle ${driver}, guest halt polling ${haltPollNs} ns`;
}

/** One core's CPU time so far (ms), from /proc/stat. */
export interface CoreTimes {
  /** Time the core ran this guest's work: user, nice, system, irq and softirq. */
  busyMs: number;
  /** Steal: time this guest's vCPU wanted to run and the hypervisor ran something else (0 where the host hides it). */
  stolenMs: number;
}

/** CPU time per core (ms) from /proc/stat; undefined off Linux. */
export function sampleCores(): CoreTimes[] | undefined {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d+ /.test(line));
    return lines.map((line) => {
      const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
      return {
        busyMs: (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 1000) / clockTicks,
        stolenMs: ((steal ?? 0) * 1000) / clockTicks,
      };
    });
  } catch {
    return undefined;
  }
}
