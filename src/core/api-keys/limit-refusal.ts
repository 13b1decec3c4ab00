import { errors, type GatewayError } from '../../spec/errors.js';
import type { ApiKeyRecord } from '../../store/api-key-record.js';

const moneyUnits = ['usd', 'diem', 'vcu'] as const;
const codes: Record<string, string> = {
  usd: 'API_KEY_USD_SPEND_LIMIT_EXCEEDED',
  diem: 'API_KEY_DIEM_SPEND_LIMIT_EXCEEDED',
  vcu: 'API_KEY_VCU_SPEND_LIMIT_EXCEEDED',
  tokens: 'API_KEY_TOKENS_SPEND_LIMIT_EXCEEDED',
  requests: 'API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED',
};

/** What a refused reservation knew: the limit that did not fit, its state in the counters, the request's worst case. */
export interface RefusedReservation {
  limits: ApiKeyRecord['limits'];
  /** The kind of bucket that refused: usd, tokens, requests, rpm, tpm or concurrent. */
  failed: string;
  state: { spent: number; reserved: number; limit: number };
  /** When the key's consumption window resets (null: a LIFETIME window). */
  resetsAt: number | null;
  minuteResetsAt: number;
  worstCost: number;
  worstTokens: number;
  rates: { diemUsd: number; vcuUsd: number };
  now: number;
}

/**
 * The error a refused reservation answers: 429 with rate-limit headers for the per-minute and concurrency limits,
 * 402 for a consumption limit, naming the unit (a USD-valued refusal names the cap the request would pass: usd,
 * diem or vcu), what the request may need against what remains, and when the window resets.
 */
export function limitRefusal(refused: RefusedReservation): GatewayError {
  const { failed, state, now } = refused;
  const remaining = Math.max(0, state.limit - state.spent - state.reserved);
  if (failed === 'rpm' || failed === 'tpm' || failed === 'concurrent') {
    const what = failed === 'rpm' ? 'requests per minute' : failed === 'tpm' ? 'tokens per minute' : 'concurrent requests';
    const reset = failed === 'concurrent' ? now + 1000 : refused.minuteResetsAt;
    const headers: Record<string, string> = {
      'x-ratelimit-limit-requests': String(state.limit),
      'x-ratelimit-remaining-requests': String(remaining),
      'x-ratelimit-reset-requests': new Date(reset).toISOString(),
      'retry-after': String(Math.max(1, Math.ceil((reset - now) / 1000))),
    };
    if (failed === 'tpm') {
      headers['x-ratelimit-limit-tokens'] = String(state.limit);
      headers['x-ratelimit-remaining-tokens'] = String(remaining);
      headers['x-ratelimit-reset-tokens'] = new Date(reset).toISOString();
    }
    return errors.rateLimited(`This API key's limit of ${state.limit} ${what} is reached; retry after the reset`, {
      code: `RATE_LIMIT_${failed.toUpperCase()}_EXCEEDED`,
      headers,
    });
  }
  const unit = failed === 'usd' ? moneyUnitPassed(refused) : failed;
  const detail =
    unit === 'tokens'
      ? `this request may use up to ${refused.worstTokens} tokens and ${remaining} remain`
      : unit === 'requests'
        ? `${state.limit} requests are allowed per window`
        : `this request may cost up to $${refused.worstCost.toFixed(6)} and $${remaining.toFixed(6)} remain; lower max_tokens to fit`;
  const resetsAt = refused.resetsAt;
  const reset = resetsAt === null ? 'the LIFETIME window never resets' : `the window resets at ${new Date(resetsAt).toISOString()}`;
  return errors.paymentRequired(`This API key's ${unit} limit for the current window is reached: ${detail}; ${reset}`, {
    code: codes[unit] ?? 'API_KEY_LIMIT_EXCEEDED',
    headers: {
      'x-should-retry': 'false',
      ...(resetsAt !== null ? { 'x-tollgate-limit-resets-at': new Date(resetsAt).toISOString() } : {}),
    },
  });
}

/** The first USD-valued cap (usd, diem, vcu) that the request's worst case would pass; usd if none does. */
function moneyUnitPassed(refused: RefusedReservation): string {
  const { diemUsd, vcuUsd } = refused.rates;
  const need = refused.state.spent + refused.state.reserved + refused.worstCost;
  return (
    moneyUnits.find((candidate) => {
      const limit = refused.limits[candidate];
      if (limit === undefined) return false;
      const cap = candidate === 'usd' ? limit : limit * (candidate === 'diem' ? diemUsd : vcuUsd);
      return need > cap;
    }) ?? 'usd'
  );
}
