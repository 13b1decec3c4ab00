#!/usr/bin/env node
// The registry this project installs from lacks some platform builds (e.g. rollup's non-Linux binaries), so
// `npm install` writes a lock file without their entries and `npm ci` then refuses it as out of sync. This adds
// the missing optional platform entries (never installed here: their os/cpu do not match) so `npm ci` accepts the
// lock. Run it after every `npm install` that changes package-lock.json: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const cpus = new Set(['arm', 'arm64', 'x64', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x']);
const systems = new Set(['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd']);
let added = 0;

for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path}/node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (packages[nested] || packages[top]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((part) => systems.has(part));
    const cpu = parts.find((part) => cpus.has(part));
    if (!os || !cpu) continue;
    const record = { version: range.replace(/^[~^=]/, ''), cpu: [cpu], license: entry.license ?? 'MIT', optional: true, os: [os] };
    if (entry.dev) record.dev = true;
    if (os === 'linux' && parts.some((part) => part.startsWith('musl'))) record.libc = ['musl'];
    else if (os === 'linux' && parts.some((part) => part.startsWith('gnu'))) record.libc = ['glibc'];
    packages[top] = record;
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'}`);
