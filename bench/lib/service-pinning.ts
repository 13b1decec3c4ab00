/**
 * Moves the local PostgreSQL and Redis servers onto the load cores for the time `tollgate-pg` is measured, so that
 * the gateway's core is Tollgate's alone, as it is for every other system (they are its upstream services, like the
 * mock). Left unpinned they took 16–20 % of the gateway's core in the runs of 2026-12-04. Their affinity is put
 * back afterwards, also for the PostgreSQL backends forked meanwhile (they inherit the pinned mask).
 */
import { execFileSync } from 'node:child_process';
import { canPin, pin } from './processes.js';

/** The servers' process names, as `pgrep -x` matches them. */
const serviceNames = ['redis-server', 'postgres'] as const;

function pidsOf(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits with 1 when nothing matches.
    return [];
  }
}

function maskOf(pid: number): string | undefined {
  try {
    // "pid 2230's current affinity mask: 3"
    return execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }).trim().split(': ').pop();
  } catch {
    return undefined;
  }
}

/** Puts back an affinity mask read by `maskOf` (a process gone meanwhile is left alone). */
function restoreMask(pid: number, mask: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', mask, String(pid)], { stdio: 'ignore' });
  } catch {
    // The process ended while pinned.
  }
}

/** True for a URL whose server runs on this machine, the only kind whose processes can be pinned. */
export function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

/**
 * Pins every process (and thread) of the local Redis and PostgreSQL servers to `cores`; returns what puts their
 * affinity back, and which servers were pinned (none without taskset or the right to change their affinity).
 */
export function pinLocalServices(cores: string | undefined): { pinned: string[]; restore: () => void } {
  if (!cores || !canPin()) return { pinned: [], restore: () => undefined };
  const saved: Array<{ name: string; pid: number; mask: string }> = [];
  const pinned = new Set<string>();
  for (const name of serviceNames) {
    for (const pid of pidsOf(name)) {
      const mask = maskOf(pid);
      if (mask === undefined || !pin(pid, cores)) continue;
      saved.push({ name, pid, mask });
      pinned.add(name);
    }
  }
  return {
    pinned: [...pinned],
    restore: () => {
      for (const { pid, mask } of saved) restoreMask(pid, mask);
      // Backends forked while pinned carry the pinned mask: they get the mask their server had before.
      for (const name of serviceNames) {
        const original = saved.find((entry) => entry.name === name)?.mask;
        if (original === undefined) continue;
        for (const pid of pidsOf(name)) if (!saved.some((entry) => entry.pid === pid)) restoreMask(pid, original);
      }
    },
  };
}
