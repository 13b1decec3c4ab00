import type { LimitWindow } from './limit-window.js';

/** Counter bucket names of an API key; the window id makes each window's spend its own bucket. */
export const usageBucket = (keyId: string, window: LimitWindow, unit: 'usd' | 'tokens' | 'requests') => `usage:${keyId}:${window.id}:${unit}`;
export const rateBucket = (keyId: string, minuteStart: number, unit: 'rpm' | 'tpm') => `rate:${keyId}:${unit}:${minuteStart}`;
export const concurrencyBucket = (keyId: string) => `rate:${keyId}:concurrent`;
