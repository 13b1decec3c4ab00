/**
 * The largest amount a limit counter holds (USD, tokens or requests), and so the largest consumption or rate limit
 * a key may have. The Redis counters keep whole units and nano-units in two Lua doubles, which are exact for integers
 * up to 2^53 (about 9e15); a cap of 1e15 per amount leaves room for sums. No real budget comes near it.
 */
export const MAX_LIMIT_AMOUNT = 1e15;
