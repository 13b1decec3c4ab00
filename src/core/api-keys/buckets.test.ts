import { describe, expect, it } from 'vitest';
import { concurrencyBucket, KeyBuckets, rateBucket, usageBucket } from './buckets.js';
import { limitWindow, minuteWindow } from './limit-window.js';

const day = 86_400_000;
const since = Date.UTC(2026, 10, 3, 9, 30);

describe('KeyBuckets', () => {
  it('names the buckets exactly as the naming functions do', () => {
    const key = { id: 'key-1', period: 'EPOCH' as const, periodSince: since };
    const buckets = new KeyBuckets(key);
    const now = since + 5 * day + 1234;
    const window = limitWindow(key.period, key.periodSince, now);
    expect(buckets.window(now)).toEqual({
      window,
      usd: usageBucket(key.id, window, 'usd'),
      tokens: usageBucket(key.id, window, 'tokens'),
      requests: usageBucket(key.id, window, 'requests'),
    });
    const minute = minuteWindow(now);
    expect(buckets.minute(now)).toEqual({ ...minute, rpm: rateBucket(key.id, minute.start, 'rpm'), tpm: rateBucket(key.id, minute.start, 'tpm') });
    expect(buckets.concurrency).toBe(concurrencyBucket(key.id));
  });

  it('reuses the same names within a window and moves to the next window at its reset', () => {
    const buckets = new KeyBuckets({ id: 'key-1', period: 'EPOCH', periodSince: since });
    const first = buckets.window(since + 1);
    expect(buckets.window(since + 3_600_000)).toBe(first);
    const midnight = limitWindow('EPOCH', since, since).resetsAt!;
    expect(buckets.window(midnight - 1)).toBe(first);
    const next = buckets.window(midnight);
    expect(next.window.start).toBe(midnight);
    expect(next.usd).not.toBe(first.usd);
    expect(next.usd).toBe(usageBucket('key-1', limitWindow('EPOCH', since, midnight), 'usd'));
  });

  it('follows calendar months and keeps a LIFETIME window for ever', () => {
    const monthly = new KeyBuckets({ id: 'key-2', period: 'MONTH', periodSince: since });
    const november = monthly.window(Date.UTC(2026, 10, 30, 23, 59));
    expect(monthly.window(Date.UTC(2026, 11, 1))).not.toBe(november);
    expect(monthly.window(Date.UTC(2026, 11, 1)).window).toEqual(limitWindow('MONTH', since, Date.UTC(2026, 11, 1)));
    const lifetime = new KeyBuckets({ id: 'key-3', period: 'LIFETIME', periodSince: since });
    const only = lifetime.window(since);
    expect(lifetime.window(since + 1000 * day)).toBe(only);
  });

  it('builds the window afresh when the clock is set back', () => {
    const buckets = new KeyBuckets({ id: 'key-1', period: 'EPOCH', periodSince: since });
    const later = buckets.window(since + 3 * day);
    const earlier = buckets.window(since + day);
    expect(earlier).not.toBe(later);
    expect(earlier.window).toEqual(limitWindow('EPOCH', since, since + day));
  });

  it('moves the rate buckets to each new minute, in either direction', () => {
    const buckets = new KeyBuckets({ id: 'key-1', period: 'EPOCH', periodSince: since });
    const start = minuteWindow(since).start;
    const first = buckets.minute(start);
    expect(buckets.minute(start + 59_999)).toBe(first);
    const second = buckets.minute(start + 60_000);
    expect(second.rpm).toBe(rateBucket('key-1', start + 60_000, 'rpm'));
    expect(buckets.minute(start + 1).tpm).toBe(rateBucket('key-1', start, 'tpm'));
  });
});
