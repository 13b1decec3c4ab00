import type { LimitPeriod } from '../../spec/schemas/api-key.js';

/** A limit window: where counting started, when it resets (null: never), and the id its counters are keyed by. */
export interface LimitWindow {
  start: number;
  resetsAt: number | null;
  /** Part of every counter bucket name: the window's start plus the period and when it was chosen. */
  id: string;
}

const day = 86_400_000;

/**
 * The window containing `now`. EPOCH windows are UTC days, MONTH windows UTC calendar months, LIFETIME one window
 * from the period's choice. Keying counters by the window's start means no reset job exists, so none can race;
 * keying them by `periodSince` too makes a change of period start counting afresh.
 */
export function limitWindow(period: LimitPeriod, periodSince: number, now: number): LimitWindow {
  let start: number;
  let resetsAt: number | null;
  if (period === 'EPOCH') {
    start = Math.floor(now / day) * day;
    resetsAt = start + day;
  } else if (period === 'MONTH') {
    const date = new Date(now);
    start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    resetsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  } else {
    start = periodSince;
    resetsAt = null;
  }
  return { start: Math.max(start, periodSince), resetsAt, id: `${periodSince}:${period}:${start}` };
}

/** The minute window of per-minute rate limits. */
export function minuteWindow(now: number): { start: number; resetsAt: number } {
  const start = Math.floor(now / 60_000) * 60_000;
  return { start, resetsAt: start + 60_000 };
}
