/** Milliseconds since the epoch; injected everywhere time matters so that tests control it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
