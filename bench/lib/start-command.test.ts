import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startCommand } from './tollgate.js';

describe('startCommand', () => {
  it("reads npm start's environment and node flags, so that the bench measures the process production runs", () => {
    const command = startCommand(fileURLToPath(new URL('../..', import.meta.url)));
    expect(command.environment).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(command.flags).toEqual(['--max-semi-space-size=8', '--heap-growing-percent=30', '--single-threaded-gc']);
  });
});
