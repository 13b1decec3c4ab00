import { describe, expect, it } from 'vitest';
import { storableLedgerRow } from './storable-ledger-row.js';
import { isRowRefusal, type LedgerRow } from './usage-ledger-repository.js';

const row: LedgerRow = {
  id: 'row-1',
  request_id: 'request-1',
  api_key_id: 'key-a',
  provider: 'openai',
  model: 'gpt-4o-mini',
  provider_key_id: 'openai-key',
  request_type: 'chat',
  status: 200,
  stream: 0,
  input_tokens: 12,
  output_tokens: 20,
  cached_tokens: 0,
  cache_write_tokens: 0,
  cost_usd: 0.000_15,
  usage_missing: 0,
  error_code: null,
  latency_ms: 31,
  created_at: '2026-12-06T09:00:00.000Z',
};

describe('storableLedgerRow', () => {
  it('answers a row whose values fit as it is, without a copy', () => {
    expect(storableLedgerRow(row)).toBe(row);
    const paired = { ...row, model: `${'x'.repeat(298)}😀` };
    expect(storableLedgerRow(paired)).toBe(paired);
  });

  it('cuts text to its column, never between the halves of a pair, and replaces what no store keeps', () => {
    expect(storableLedgerRow({ ...row, provider: 'p'.repeat(101) }).provider).toBe('p'.repeat(100));
    expect(storableLedgerRow({ ...row, model: `${'x'.repeat(299)}😀` }).model).toBe(`${'x'.repeat(299)}\ufffd`);
    expect(storableLedgerRow({ ...row, error_code: '\u0000a\udc00b\ud83d' }).error_code).toBe('\ufffda\ufffdb\ufffd');
    const given = { ...row, model: 'a\u0000b' };
    storableLedgerRow(given);
    expect(given.model).toBe('a\u0000b');
  });

  it('holds whole numbers to 32 bits and a cost that is not a number at 0', () => {
    const fitted = storableLedgerRow({ ...row, input_tokens: 5e9, output_tokens: -5e9, latency_ms: 12.6, cached_tokens: Number.NaN, cost_usd: Number.NaN });
    expect(fitted).toMatchObject({ input_tokens: 2 ** 31 - 1, output_tokens: -(2 ** 31), latency_ms: 13, cached_tokens: 0, cost_usd: 0 });
  });
});

describe('isRowRefusal', () => {
  it("tells a row's refusal from the store's failure", () => {
    for (const code of ['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', '22001', '22021', '22P05', '23502']) {
      expect(isRowRefusal(Object.assign(new Error(code), { code }))).toBe(true);
    }
    for (const code of ['SQLITE_ERROR', 'SQLITE_BUSY', 'ECONNREFUSED', '42P01', '57P01', '08006', undefined]) {
      expect(isRowRefusal(Object.assign(new Error(String(code)), { code }))).toBe(false);
    }
    expect(isRowRefusal(null)).toBe(false);
  });
});
