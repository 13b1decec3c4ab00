/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and ranks where the time went: self time per function, time per
 * package or area, and inclusive time per function (each sample counted once per function on its stack).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Ranked {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time, in percent. */
  percent: number;
}

export interface ProfileSummary {
  /** Profiled window (ms) and the part of it the process was busy. */
  windowMs: number;
  busyMs: number;
  gcMs: number;
  selfByFunction: Ranked[];
  selfByArea: Ranked[];
  inclusiveByFunction: Ranked[];
  /** Inclusive time of Tollgate's own functions (dist/), to see which part of the request path costs what. */
  inclusiveTollgate: Ranked[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Where a frame belongs: a package, Node's internals, Tollgate's own code (by folder), or V8. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const parts = url.slice(dist + '/dist/'.length).split('/');
    return `tollgate:${parts.length > 1 ? parts.slice(0, Math.min(2, parts.length - 1)).join('/') : parts[0]}`;
  }
  return shortUrl(url);
}

function frameName(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Totals are in microseconds; the ranking shows milliseconds and the share of the busy time. */
function rank(totals: Map<string, number>, busyUs: number, limit: number): Ranked[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((us / busyUs) * 1000) / 10 }));
}

/**
 * Summarises a profile. Only samples between `fromMs` and `untilMs` after the profile's start count: start-up,
 * configuration, warm-up and shutdown are left out, so that the ranking describes the steady state under load.
 */
export function summariseProfile(file: string, options: { fromMs?: number; untilMs?: number; limit?: number } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const limit = options.limit ?? 30;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  let elapsedUs = 0;
  let windowUs = 0;
  let busyUs = 0;
  let gcUs = 0;
  const fromUs = (options.fromMs ?? 0) * 1000;
  const untilUs = options.untilMs === undefined ? Infinity : options.untilMs * 1000;
  for (let index = 0; index < profile.samples.length; index += 1) {
    elapsedUs += profile.timeDeltas[index] ?? 0;
    if (elapsedUs < fromUs) continue;
    if (elapsedUs > untilUs) break;
    // A sample stands for the time until the next one.
    const us = profile.timeDeltas[index + 1] ?? 0;
    const node = byId.get(profile.samples[index]!);
    if (!node) continue;
    windowUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') continue;
    busyUs += us;
    if (frame.functionName === '(garbage collector)') gcUs += us;
    const name = frameName(frame);
    self.set(name, (self.get(name) ?? 0) + us);
    const where = areaOf(frame);
    area.set(where, (area.get(where) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const ancestor = byId.get(id)!;
      if (ancestor.callFrame.functionName === '(root)') break;
      const key = frameName(ancestor.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
      if (ancestor.callFrame.url.includes('/dist/') && !ancestor.callFrame.url.includes('node_modules')) inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
    }
  }
  return {
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    gcMs: Math.round(gcUs / 1000),
    selfByFunction: rank(self, busyUs, limit),
    selfByArea: rank(area, busyUs, limit),
    inclusiveByFunction: rank(inclusive, busyUs, limit * 2),
    inclusiveTollgate: rank(inclusiveOwn, busyUs, limit * 2),
  };
}
