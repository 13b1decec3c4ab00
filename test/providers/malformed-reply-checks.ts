/**
 * What the malformed upstream reply tests check of every answer: a status below 500 or a 502/504 in the error
 * shape, a translated reply or a stream that ends cleanly, and the API key's reservation settled after each request.
 */
import { expect } from 'vitest';
import type { RawReply } from '../mocks/mock-server.js';
import { expectSettled, type MeteredClient } from './malformed-reply-gateway.js';
import type { ReplyFamily } from './malformed-reply-families.js';
import { parseJson } from './malformed-reply-support.js';

/** The routes a client asks on, each with its own reply and stream format. */
export type Route = '/v1/chat/completions' | '/v1/messages' | '/v1/responses';

/** Every chat route, for the cases each must pass. */
export const chatRoutes: readonly Route[] = ['/v1/chat/completions', '/v1/messages', '/v1/responses'];

/** What a client got, once its form was checked. */
export interface Answer {
  status: number;
  text: string;
  /** The content the client received (joined text deltas, or the message's text). */
  content: string;
}

function requestBody(route: Route, model: string, stream: boolean): Record<string, unknown> {
  const messages = [{ role: 'user', content: 'hello' }];
  if (route === '/v1/messages') return { model, max_tokens: 64, messages, ...(stream ? { stream: true } : {}) };
  if (route === '/v1/responses') return { model, max_output_tokens: 64, input: messages, ...(stream ? { stream: true } : {}) };
  return { model, max_tokens: 64, messages, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) };
}

/** Sends one request as the metered client and checks the answer's form whatever it is; the read must complete. */
async function ask(client: MeteredClient, route: Route, model: string, stream: boolean, label: string, forwarded?: string): Promise<Answer> {
  const response = await fetch(`${client.tollgate.url}${route}`, { method: 'POST', headers: client.clientHeaders, body: JSON.stringify(requestBody(route, model, stream)) });
  // The read completes: a stream that never ended would hang here (and fail on the test's timeout).
  const text = await response.text();
  const context = `${label}: ${response.status} ${text.slice(0, 600)}`;
  const status = response.status;
  expect(status < 500 || status === 502 || status === 504, context).toBe(true);
  if (status !== 200) {
    const body = parseJson(text);
    expect(body, context).toMatchObject({ status_code: status, error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) } });
    return { status, text, content: '' };
  }
  if (!stream) return { status, text, content: completionContent(route, text, context) };
  return { status, text, content: streamContent(route, text, context, forwarded) };
}

function completionContent(route: Route, text: string, context: string): string {
  const body = parseJson(text);
  expect(body !== null && typeof body === 'object' && !Array.isArray(body), context).toBe(true);
  if (route === '/v1/messages') {
    expect(body, context).toMatchObject({ type: 'message', content: expect.any(Array), usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) } });
    return (body.content as Array<{ type: string; text?: string }>).filter((block) => block.type === 'text').map((block) => block.text).join('');
  }
  if (route === '/v1/responses') {
    expect(body, context).toMatchObject({ object: 'response', status: expect.stringMatching(/^(completed|incomplete)$/), output: expect.any(Array) });
    return responseText(body.output);
  }
  expect(Array.isArray(body.choices), context).toBe(true);
  for (const choice of body.choices) expect(choice !== null && typeof choice === 'object' && typeof choice.message === 'object', context).toBe(true);
  const content = body.choices[0]?.message?.content;
  return typeof content === 'string' ? content : '';
}

/** The text of a Response's message items. */
function responseText(output: unknown): string {
  if (!Array.isArray(output)) return '';
  return output
    .filter((item) => item?.type === 'message')
    .flatMap((item) => item.content as Array<{ type: string; text?: string }>)
    .filter((part) => part.type === 'output_text')
    .map((part) => part.text)
    .join('');
}

/** The events of an SSE text, each with its name and joined data. */
export function sseEvents(text: string): Array<{ event: string | undefined; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      return { event, data: data.join('\n') };
    });
}

/**
 * Checks that a stream ended cleanly: every event is JSON, the last is the terminator or the error event.
 * `forwarded`, for an OpenAI-compatible upstream on the chat route, is the upstream's stream text: Tollgate forwards
 * a chunk that needs nothing from it as the upstream's bytes, unparsed (by design, for CPU), so a data line that is
 * not JSON may reach the client, but only as the upstream sent it.
 */
function streamContent(route: Route, text: string, context: string, forwarded?: string): string {
  const events = sseEvents(text);
  expect(events.length, context).toBeGreaterThan(0);
  let content = '';
  if (route === '/v1/messages') {
    for (const item of events) {
      const data = parseJson(item.data);
      expect(data?.type, context).toBe(item.event);
      if (item.event === 'content_block_delta' && data.delta?.type === 'text_delta') content += data.delta.text;
    }
    const last = events.at(-1)!;
    expect(['message_stop', 'error'], context).toContain(last.event);
    if (last.event === 'error') expect(parseJson(last.data)?.error?.message, context).toEqual(expect.any(String));
    return content;
  }
  if (route === '/v1/responses' && forwarded !== undefined) return nativeResponsesContent(events, context, forwarded);
  if (route === '/v1/responses') {
    let sequence = 0;
    for (const item of events) {
      const data = parseJson(item.data);
      expect(data?.type, context).toBe(item.event);
      expect(data?.sequence_number, context).toBe(sequence++);
      if (item.event === 'response.output_text.delta') content += data.delta;
    }
    const last = events.at(-1)!;
    expect(['response.completed', 'response.incomplete', 'error'], context).toContain(last.event);
    const closing = parseJson(last.data);
    if (last.event === 'error') expect(closing?.error?.message, context).toEqual(expect.any(String));
    // The closing Response holds what the deltas said.
    else expect(responseText(closing?.response?.output), context).toBe(content);
    return content;
  }
  const last = events.at(-1)!;
  for (const item of events.slice(0, -1)) {
    const data = parseJson(item.data);
    if (data === undefined && forwarded !== undefined && forwarded.includes(`data: ${item.data}\n`)) continue;
    expect(data !== undefined && data.error === undefined, context).toBe(true);
    const delta = data?.choices?.[0]?.delta?.content;
    if (typeof delta === 'string') content += delta;
  }
  if (last.data !== '[DONE]') expect(parseJson(last.data)?.error, context).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  return content;
}

/**
 * Checks a native Responses stream (the upstream's events forwarded as written): every event but a closing error is
 * one the upstream sent, as its data was written, named by its data's type, in the upstream's order and each once;
 * the stream ends with the upstream's `response.completed` or `response.incomplete`, or with an error event numbered
 * after the last event forwarded. Returns the text deltas.
 */
function nativeResponsesContent(events: Array<{ event: string | undefined; data: string }>, context: string, forwarded: string): string {
  const upstream = sseEvents(forwarded.replace(/\r\n?/g, '\n')).map((item) => item.data);
  let content = '';
  let position = -1;
  let sequence = -1;
  for (const [index, item] of events.entries()) {
    const data = parseJson(item.data);
    expect(data?.type, context).toBe(item.event);
    expect(data?.sequence_number, context).toBeGreaterThan(sequence);
    sequence = data.sequence_number;
    if (index === events.length - 1 && item.event === 'error') {
      expect(data?.error?.message, context).toEqual(expect.any(String));
      continue;
    }
    const found = upstream.indexOf(item.data, position + 1);
    expect(found, `${context}: a forwarded event is the upstream's, after the one before it`).toBeGreaterThan(position);
    position = found;
    if (item.event === 'response.output_text.delta') content += data.delta;
  }
  expect(['response.completed', 'response.incomplete', 'error'], context).toContain(events.at(-1)!.event);
  return content;
}

/** Usage a client is shown holds counts a client can add up: absent, or non-negative whole numbers. */
export function expectSaneUsage(usage: unknown, context: string): void {
  if (usage === undefined || usage === null) return;
  const record = usage as Record<string, unknown>;
  for (const name of ['prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens']) {
    if (name in record) expect(Number.isSafeInteger(record[name]) && (record[name] as number) >= 0, `${name} in ${context}`).toBe(true);
  }
}

/**
 * The tests' `tryReply`, sending as the client of the moment: each test has a key of its own, so the client is looked
 * up at each request rather than once.
 */
export function tryReplyAs(currentClient: () => MeteredClient) {
  /** Sends a request the family's mock answers with `reply`, and checks answer and settlement. */
  return async function tryReply(target: ReplyFamily, stream: boolean, reply: RawReply, label: string, route: Route = '/v1/chat/completions', followUp?: RawReply): Promise<Answer> {
    const client = currentClient();
    const before = target.upstreamRequests();
    if (stream) target.answerStream({ contentType: target.streamContentType, ...reply }, followUp);
    else target.answerCompletion(reply);
    const forwarded =
      stream && ((route === '/v1/chat/completions' && target.name === 'openai-compatible') || target.native === true) ? Buffer.from(reply.raw).toString('utf8') : undefined;
    const answer = await ask(client, route, target.model, stream, `${target.name} ${label}`, forwarded);
    // The scripted reply was the one played: the upstream was asked.
    expect(target.upstreamRequests(), `${target.name} ${label}: the upstream was asked`).toBeGreaterThan(before);
    // After each request the key holds nothing: its reservation was settled, whatever the reply.
    await expectSettled(client.tollgate, client.apiKeyId, `${target.name} ${label}`);
    return answer;
  };
}
