import type { LimitPeriod } from '../../spec/schemas/api-key.js';
import { limitWindow, minuteWindow, type LimitWindow } from './limit-window.js';

/** Counter bucket names of an API key; the window id makes each window's spend its own bucket. */
export const usageBucket = (keyId: string, window: LimitWindow, unit: 'usd' | 'tokens' | 'requests') => `usage:${keyId}:${window.id}:${unit}`;
export const rateBucket = (keyId: string, minuteStart: number, unit: 'rpm' | 'tpm') => `rate:${keyId}:${unit}:${minuteStart}`;
export const concurrencyBucket = (keyId: string) => `rate:${keyId}:concurrent`;

/** A key's limit window and the names of its usage buckets in it. */
export interface WindowBuckets {
  window: LimitWindow;
  usd: string;
  tokens: string;
  requests: string;
}

/** A key's per-minute rate window and the names of its rate buckets in it. */
export interface MinuteBuckets {
  start: number;
  resetsAt: number;
  rpm: string;
  tpm: string;
}

/**
 * The bucket names of one version of a key, built once per window and once per minute instead of on every request.
 * Besides the formatting saved, every request then hands the same string objects to the counters, whose maps and
 * objects keyed by them find V8's hash of the string already computed.
 */
export class KeyBuckets {
  readonly concurrency: string;
  #window: WindowBuckets | undefined;
  /** The clock readings for which #window is the window: from when it was built until it resets. */
  #windowFrom = 0;
  #windowUntil = 0;
  #minute: MinuteBuckets | undefined;

  constructor(private readonly key: { readonly id: string; readonly period: LimitPeriod; readonly periodSince: number }) {
    this.concurrency = concurrencyBucket(key.id);
  }

  /** The limit window containing `now` and its usage buckets. */
  window(now: number): WindowBuckets {
    if (this.#window === undefined || now < this.#windowFrom || now >= this.#windowUntil) {
      const window = limitWindow(this.key.period, this.key.periodSince, now);
      this.#window = {
        window,
        usd: usageBucket(this.key.id, window, 'usd'),
        tokens: usageBucket(this.key.id, window, 'tokens'),
        requests: usageBucket(this.key.id, window, 'requests'),
      };
      // The window containing `now` lasts until its reset (a LIFETIME window for ever), so every reading from `now`
      // up to then falls in it; an earlier reading (a clock set back) builds the window afresh.
      this.#windowFrom = now;
      this.#windowUntil = window.resetsAt ?? Number.POSITIVE_INFINITY;
    }
    return this.#window;
  }

  /** The minute containing `now` and its rate buckets. */
  minute(now: number): MinuteBuckets {
    const cached = this.#minute;
    if (cached !== undefined && now >= cached.start && now < cached.resetsAt) return cached;
    const { start, resetsAt } = minuteWindow(now);
    this.#minute = { start, resetsAt, rpm: rateBucket(this.key.id, start, 'rpm'), tpm: rateBucket(this.key.id, start, 'tpm') };
    return this.#minute;
  }
}
