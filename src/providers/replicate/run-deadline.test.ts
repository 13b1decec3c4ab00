import { describe, expect, it } from 'vitest';
import { runDeadline } from './run-deadline.js';

describe('runDeadline', () => {
  it('is twice the provider timeout plus a minute, in whole seconds', () => {
    expect(runDeadline(60_000)).toBe('180s');
    expect(runDeadline(30_000)).toBe('120s');
    expect(runDeadline(3_600_000)).toBe('7260s');
  });

  it('rounds a fractional timeout up, and stays above the 5 s Replicate requires', () => {
    expect(runDeadline(1_500)).toBe('63s');
    expect(runDeadline(1)).toBe('61s');
  });
});
