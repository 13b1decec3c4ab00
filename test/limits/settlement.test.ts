/**
 * Every way a request can end settles its reservation: a plain or streamed completion (charged its usage), a
 * client that leaves while the upstream hangs or mid-stream, an upstream 5xx after retries, a 400, an upstream
 * stream that breaks, and an upstream that reports no usage (charged the reservation, flagged usage_missing).
 * After each: nothing stays reserved, and the window's spend equals the ledger's cost. Runs with the counters
 * in memory and in the real Redis. Tests wait on events (a request arriving, a disconnect, a ledger row).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, whenReceived } from '../inference/inference-helpers.js';
import { startStallingUpstream, type StallingUpstream } from './stalling-upstream.js';
import {
  chatAs,
  counterKinds,
  countersFor,
  createApiKey,
  deleteRedisPrefix,
  freshRedisPrefix,
  ledgerRowsOf,
  smallChat,
  startLimitsRig,
  total,
  usdPerToken,
  usageOf,
  type LimitsRig,
} from './limit-helpers.js';

const limits = { usd: 100, tokens: 10_000_000, requests: 100_000 };
const zero = { usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 };

describe.each(counterKinds)('settlement on every exit path ($name counters)', ({ name }) => {
  const prefix = freshRedisPrefix();
  let rig: LimitsRig;
  let stalling: StallingUpstream;

  beforeAll(async () => {
    rig = await startLimitsRig(countersFor(name, prefix));
    stalling = await startStallingUpstream();
  });
  afterAll(async () => {
    await rig?.dispose();
    await stalling?.close();
    if (name === 'redis') await deleteRedisPrefix(prefix);
  });

  /** Every secret created here, for the log scan at the end. */
  const secrets: string[] = [];
  /** A fresh key with a USD, a token and a request limit, so all three buckets are reserved and settled. */
  const freshKey = async () => {
    const key = await createApiKey(rig.tollgate, { consumptionLimit: limits, limitPeriod: 'LIFETIME' });
    secrets.push(key.secret);
    return key;
  };

  /** After every test: nothing reserved, and spend, tokens and requests equal the ledger's. */
  async function expectSettledAgainstLedger(id: string) {
    const rows = await ledgerRowsOf(rig.tollgate, id);
    const usage = await usageOf(rig.tollgate, id);
    expect(usage.window.reserved).toEqual(zero);
    expect(usage.window.spent.usd).toBeCloseTo(total(rows, (row) => row.cost_usd), 12);
    expect(usage.window.spent.requests).toBe(rows.length);
    // The trailing seven days come from the ledger itself: the same totals once it is written.
    expect(usage.trailingSevenDays.usd).toBeCloseTo(total(rows, (row) => row.cost_usd), 12);
    expect(usage.trailingSevenDays.requests).toBe(rows.length);
    expect(usage.trailingSevenDays.tokens).toBe(total(rows, (row) => row.input_tokens + row.output_tokens));
    return { usage, rows };
  }

  /** The worst case a smallChat() reserves, read while such a request hangs upstream; the hang is then aborted. */
  async function reservationOfHangingRequest(secret: string, id: string) {
    const controller = new AbortController();
    const before = rig.mock.requests.length;
    const settledBefore = rig.ledger.rows.length;
    rig.mock.enqueue({ hang: true });
    const pending = chatAs(rig.tollgate, secret, smallChat(), { signal: controller.signal }).catch((error: unknown) => error);
    await whenReceived(rig.mock.requests, before + 1);
    const during = await usageOf(rig.tollgate, id);
    controller.abort();
    await rig.mock.whenAborted();
    expect(await pending).toBeInstanceOf(Error);
    await rig.ledger.whenRows(settledBefore + 1);
    return during.window.reserved as { usd: number; tokens: number; requests: number };
  }

  it('charges a completion its usage, priced by the key’s pricing structure', async () => {
    const key = await freshKey();
    const reply = await chatAs(rig.tollgate, key.secret, smallChat('what does a tollgate do'));
    expect(reply.status).toBe(200);
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    const { prompt_tokens, completion_tokens } = reply.body.usage;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, stream: 0, usage_missing: 0, input_tokens: prompt_tokens, output_tokens: completion_tokens, request_type: 'chat' });
    expect(usage.window.spent.usd).toBeCloseTo((prompt_tokens + completion_tokens) * usdPerToken, 12);
    expect(usage.window.spent.tokens).toBe(prompt_tokens + completion_tokens);
  });

  it('records the priced cost, and counts every unit of the window, whichever limits the key has', async () => {
    const shapes = [
      { consumptionLimit: { requests: 1000 } },
      { consumptionLimit: { tokens: 1_000_000 } },
      { consumptionLimit: { usd: 100 } },
      { rateLimits: { rpm: 1000 } },
      {},
    ];
    for (const shape of shapes) {
      const key = await createApiKey(rig.tollgate, { ...shape, limitPeriod: 'EPOCH' });
      const reply = await chatAs(rig.tollgate, key.secret, smallChat('price me whatever my limits'));
      expect(reply.status).toBe(200);
      const tokens = reply.body.usage.prompt_tokens + reply.body.usage.completion_tokens;
      const rows = await ledgerRowsOf(rig.tollgate, key.id);
      expect(rows, JSON.stringify(shape)).toHaveLength(1);
      expect(rows[0]!.cost_usd, JSON.stringify(shape)).toBeCloseTo(tokens * usdPerToken, 12);
      const usage = await usageOf(rig.tollgate, key.id);
      expect(usage.window.reserved).toEqual(zero);
      if ('consumptionLimit' in shape) {
        // A key with any consumption limit has its whole window counted, so a limit added later starts from the truth.
        expect(usage.window.spent, JSON.stringify(shape)).toMatchObject({ usd: rows[0]!.cost_usd, tokens, requests: 1 });
      }
    }
  });

  it('settles embeddings and /v1/messages requests the same way', async () => {
    const key = await freshKey();
    const embedded = await post(rig.tollgate, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: ['one text', 'and another'] }, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(embedded.status).toBe(200);
    const messages = await post(
      rig.tollgate,
      '/v1/messages',
      { model: 'openai/gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'through the messages route' }] },
      { headers: { authorization: `Bearer ${key.secret}`, 'anthropic-version': '2023-06-01' } },
    );
    expect(messages.status, messages.text).toBe(200);
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    const embedding = rows.find((row) => row.request_type === 'embeddings')!;
    expect(embedding).toMatchObject({ status: 200, input_tokens: embedded.body.usage.prompt_tokens, output_tokens: 0, usage_missing: 0 });
    expect(embedding.cost_usd).toBeCloseTo(embedded.body.usage.prompt_tokens * usdPerToken, 12);
    const message = rows.find((row) => row.request_type === 'messages')!;
    expect(message).toMatchObject({ status: 200, input_tokens: messages.body.usage.input_tokens, output_tokens: messages.body.usage.output_tokens, usage_missing: 0 });
    expect(message.cost_usd).toBeCloseTo((messages.body.usage.input_tokens + messages.body.usage.output_tokens) * usdPerToken, 12);
    expect(usage.window.spent.tokens).toBe(total(rows, (row) => row.input_tokens + row.output_tokens));
  });

  it('charges a streamed completion the usage the upstream streamed, whether or not the client asked for it', async () => {
    const key = await freshKey();
    for (const extra of [{ stream: true }, { stream: true, stream_options: { include_usage: true } }]) {
      const reply = await chatAs(rig.tollgate, key.secret, smallChat('stream me a reply', extra));
      expect(reply.status).toBe(200);
      expect(reply.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    }
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ status: 200, stream: 1, usage_missing: 0 });
    expect(rows.every((row) => row.input_tokens > 0 && row.output_tokens > 0)).toBe(true);
    const tokens = total(rows, (row) => row.input_tokens + row.output_tokens);
    expect(usage.window.spent.tokens).toBe(tokens);
    expect(usage.window.spent.usd).toBeCloseTo(tokens * usdPerToken, 12);
  });

  it('releases everything when the client leaves while the upstream hangs, charging nothing', async () => {
    const key = await freshKey();
    const reserved = await reservationOfHangingRequest(key.secret, key.id);
    expect(reserved.usd).toBeGreaterThan(0);
    expect(reserved.tokens).toBeGreaterThan(16);
    expect(reserved.requests).toBe(1);
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 499, error_code: 'client_closed_request', cost_usd: 0, usage_missing: 0 });
    expect(usage.window.spent.usd).toBe(0);
    expect(usage.window.spent.tokens).toBe(0);
  });

  it('charges the reservation, flagged usage_missing, when the client leaves mid-stream (no usage was reported)', async () => {
    const key = await freshKey();
    const reserved = await reservationOfHangingRequest(key.secret, key.id);
    await rig.tollgate.configureProvider('openai', { network_config: { base_url: stalling.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
    const settledBefore = rig.ledger.rows.length;
    try {
      const controller = new AbortController();
      const response = await fetch(`${rig.tollgate.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(smallChat('hello there', { stream: true })),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('data: ');
      await stalling.whenStreaming();
      controller.abort();
      await stalling.whenAborted();
      await rig.ledger.whenRows(settledBefore + 1);
    } finally {
      await rig.tollgate.configureProvider('openai', { network_config: { base_url: rig.mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
    }
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    expect(rows).toHaveLength(2);
    const streamed = rows.find((row) => row.stream === 1)!;
    expect(streamed).toMatchObject({ usage_missing: 1 });
    expect(streamed.cost_usd).toBeCloseTo(reserved.usd, 12);
    expect(usage.window.spent.usd).toBeCloseTo(reserved.usd, 12);
    expect(usage.window.spent.tokens).toBe(reserved.tokens);
  });

  it('still counts a request that outlives its reservation (settled after the reservation expired)', async () => {
    const key = await freshKey();
    const reserved = await reservationOfHangingRequest(key.secret, key.id);
    await rig.tollgate.configureProvider('openai', { network_config: { base_url: stalling.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
    const settledBefore = rig.ledger.rows.length;
    const startedAt = rig.tollgate.clock.now;
    try {
      const controller = new AbortController();
      const response = await fetch(`${rig.tollgate.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(smallChat('hello there', { stream: true })),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      await response.body!.getReader().read();
      await stalling.whenStreaming();
      // A long stream: past the reservation's 15-minute hold, still inside the key's window.
      rig.tollgate.clock.now = startedAt + 16 * 60_000;
      expect((await usageOf(rig.tollgate, key.id)).window.reserved.requests).toBe(0);
      controller.abort();
      await stalling.whenAborted();
      await rig.ledger.whenRows(settledBefore + 1);
    } finally {
      rig.tollgate.clock.now = startedAt;
      await rig.tollgate.configureProvider('openai', { network_config: { base_url: rig.mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
    }
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    expect(rows).toHaveLength(2);
    expect(usage.window.spent.usd).toBeCloseTo(reserved.usd, 12);
    expect(usage.window.spent.requests).toBe(2);
  });

  it('charges nothing for an upstream 5xx after its retries, nor for an upstream 400', async () => {
    const key = await freshKey();
    const before = rig.mock.requests.length;
    for (let attempt = 0; attempt < 3; attempt += 1) rig.mock.enqueue({ status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } });
    const failed = await chatAs(rig.tollgate, key.secret, smallChat());
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(rig.mock.requests.length - before).toBe(3);

    rig.mock.enqueue({ status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error', param: 'messages', code: null } } });
    const refused = await chatAs(rig.tollgate, key.secret, smallChat());
    expect(refused.status).toBe(400);
    expect(rig.mock.requests.length - before).toBe(4);

    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    expect(rows.map((row) => row.status).sort()).toEqual([400, failed.status].sort());
    expect(rows.every((row) => row.cost_usd === 0 && row.usage_missing === 0 && row.error_code !== null)).toBe(true);
    expect(usage.window.spent).toMatchObject({ usd: 0, tokens: 0, requests: 2 });
  });

  it('charges the reservation, flagged usage_missing, when the upstream reports no usage (plain and streamed)', async () => {
    const key = await freshKey();
    const reserved = await reservationOfHangingRequest(key.secret, key.id);
    rig.mock.enqueue({
      status: 200,
      body: {
        id: 'chatcmpl-nousage',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'no usage here' }, finish_reason: 'stop' }],
      },
    });
    const plain = await chatAs(rig.tollgate, key.secret, smallChat());
    expect(plain.status).toBe(200);
    const envelope = { id: 'chatcmpl-nousage', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
    rig.mock.enqueue({
      streamChunks: [
        { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'no usage' }, finish_reason: null }] },
        { ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      ],
    });
    const streamed = await chatAs(rig.tollgate, key.secret, smallChat('hello there', { stream: true }));
    expect(streamed.status).toBe(200);

    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    const missing = rows.filter((row) => row.usage_missing === 1);
    expect(missing.map((row) => row.stream).sort()).toEqual([0, 1]);
    for (const row of missing) expect(row.cost_usd).toBeCloseTo(reserved.usd, 12);
    expect(usage.window.spent.usd).toBeCloseTo(2 * reserved.usd, 12);
    expect(usage.window.spent.tokens).toBe(2 * reserved.tokens);
  });

  it('settles an upstream stream that breaks mid-way (charged the reservation, flagged usage_missing)', async () => {
    const key = await freshKey();
    const reserved = await reservationOfHangingRequest(key.secret, key.id);
    const envelope = { id: 'chatcmpl-broken', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
    rig.mock.enqueue({
      streamChunks: [
        { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'cut ' }, finish_reason: null }] },
        { ...envelope, choices: [{ index: 0, delta: { content: 'off' }, finish_reason: null }] },
        { ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      ],
      failAfter: 2,
    });
    const reply = await chatAs(rig.tollgate, key.secret, smallChat('hello there', { stream: true }));
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('upstream_stream_broken');
    const { usage, rows } = await expectSettledAgainstLedger(key.id);
    const broken = rows.find((row) => row.stream === 1)!;
    expect(broken.usage_missing).toBe(1);
    expect(broken.status).toBeGreaterThanOrEqual(500);
    expect(broken.error_code).not.toBeNull();
    expect(broken.cost_usd).toBeCloseTo(reserved.usd, 12);
    expect(usage.window.spent.usd).toBeCloseTo(reserved.usd, 12);
  });

  it('settles a stream whose forwarded chunk turns out not to be JSON as failed, on the chat and the messages route', async () => {
    const key = await freshKey();
    const envelope = { id: 'chatcmpl-garbled', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
    const first = { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'fine so far' }, finish_reason: null }] };
    // Shaped like one JSON object, so the decoder forwards its text unread; the route reads it (an empty choices list
    // may be the usage-only chunk, and the messages route translates every chunk) and finds it malformed.
    const garbled = '{"id":"chatcmpl-garbled","object":"chat.completion.chunk","choices":[],"oops":tru}';
    const headers = { authorization: `Bearer ${key.secret}`, 'anthropic-version': '2023-06-01' };
    rig.mock.enqueue({ streamChunks: [first, garbled] });
    const chat = await post(rig.tollgate, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers });
    rig.mock.enqueue({ streamChunks: [first, garbled] });
    const messages = await post(rig.tollgate, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers });

    expect(chat.text).toContain('fine so far');
    expect(chat.text).toContain('upstream_stream_error');
    expect(chat.text).not.toContain('[DONE]');
    expect(messages.text).toContain('event: error');
    expect(messages.text).not.toContain('message_stop');
    const { rows } = await expectSettledAgainstLedger(key.id);
    expect(rows.map((row) => [row.request_type, row.status, row.error_code])).toEqual([
      ['chat', 502, 'upstream_stream_error'],
      ['messages', 502, 'upstream_stream_error'],
    ]);
  });

  it('wrote no API key to any log line on any of these paths', () => {
    const logs = rig.tollgate.logs.join('');
    expect(rig.tollgate.logs.length).toBeGreaterThan(10);
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(3, 20));
    }
  });
});
