/**
 * What the malformed-management-bodies suite shares: requests sent exactly as given, the check of every answer (below
 * 500, the seed-002 error shape, no secret repeated), and references for the failure messages and the glob matcher.
 */
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { expect } from 'vitest';
import { toJsonText } from '../support/json-fuzz.js';
import { testAdminKey, type TestGateway } from '../support/test-gateway.js';

export interface Answer {
  status: number;
  text: string;
  body: any;
}

export interface Sent {
  method: string;
  url: string;
  /** The body as sent, JSON text or not. */
  text?: string;
  /** The content-type header; absent sends none. */
  contentType?: string;
}

/** Sends exactly the text and content type given (the shared helper would set a JSON content type itself). */
export async function send(tollgate: TestGateway, request: Sent): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${testAdminKey}` };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const response = await tollgate.gateway.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers,
    ...(request.text === undefined ? {} : { payload: request.text }),
  });
  let body: unknown;
  try {
    body = response.json();
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, text: response.body, body };
}

/** Sends a body as JSON text with a JSON content type, or no body at all. */
export const sendJson = (tollgate: TestGateway, method: string, url: string, body?: unknown): Promise<Answer> =>
  send(tollgate, { method, url, ...(body === undefined ? {} : { text: toJsonText(body), contentType: 'application/json' }) });

/** Every secret the suites send carries this, away from the first and last four characters that redaction shows. */
export const secretMarker = 'qx7fuzzsecret';
let secretCount = 0;
/** A secret for a request, unique and carrying the marker. */
export const secret = (label: string): string => `sk-f${secretMarker}-${label}-${(secretCount += 1)}-end0`;

/** What is wrong with an answer: a 5xx, a 4xx not in the seed-002 error shape, or a secret repeated. */
export function problemsOf(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (answer.status >= 400 && answer.status < 500) {
    const body = answer.body;
    const shaped =
      body !== null &&
      typeof body === 'object' &&
      isDeepStrictEqual(Object.keys(body).sort(), ['error', 'event_id', 'extra_fields', 'is_bifrost_error', 'status_code', 'type']) &&
      isDeepStrictEqual(Object.keys(body.error).sort(), ['code', 'event_id', 'message', 'param', 'type']) &&
      body.status_code === answer.status &&
      body.is_bifrost_error === true &&
      body.type === body.error.type &&
      typeof body.error.code === 'string' &&
      typeof body.error.message === 'string' &&
      body.error.message.length > 0 &&
      (body.error.param === null || typeof body.error.param === 'string') &&
      body.error.event_id === body.event_id;
    if (!shaped) problems.push(`a ${answer.status} not in the error shape: ${answer.text.slice(0, 300)}`);
  }
  if (answer.text.toLowerCase().includes(secretMarker)) problems.push('repeats a secret it was sent');
  return problems;
}

/** Checks an error answer: its status, the seed-002 shape and, when given, its code and param. */
export function expectError(answer: Answer, status: number, expected: { code?: string; param?: string | null } = {}): void {
  expect(answer.status, answer.text).toBe(status);
  expect(problemsOf(answer)).toEqual([]);
  if (expected.code !== undefined) expect(answer.body.error.code, answer.text).toBe(expected.code);
  if (expected.param !== undefined) expect(answer.body.error.param, answer.text).toBe(expected.param);
}

/**
 * Whether a regular expression answers within a generous delay. It runs in a worker: a catastrophically
 * backtracking one would block the test's own thread, where no timeout could end it.
 */
export function regExpAnswersWithin(pattern: RegExp, text: string, milliseconds: number): Promise<boolean | 'timed out'> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(
      "const { parentPort, workerData } = require('node:worker_threads');" +
        'parentPort.postMessage(new RegExp(workerData.source, workerData.flags).test(workerData.text));',
      { eval: true, workerData: { source: pattern.source, flags: pattern.flags, text } },
    );
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve('timed out');
    }, milliseconds);
    worker.once('message', (matched: boolean) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(matched);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Glob matching by dynamic programming over prefixes, the reference for the regular expressions. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.toLowerCase();
  const text = name.toLowerCase();
  // matched[index]: whether the part of the glob read so far matches the name's first `index` characters.
  let matched = Array.from({ length: text.length + 1 }, (_, index) => index === 0);
  for (const character of pattern) {
    const next = Array.from({ length: text.length + 1 }, () => false);
    for (let index = 0; index <= text.length; index += 1) {
      if (character === '*') next[index] = matched[index]! || (index > 0 && next[index - 1]!);
      else next[index] = index > 0 && matched[index - 1]! && text[index - 1] === character;
    }
    matched = next;
  }
  return matched[text.length]!;
}

/** Compares an object's reads: a provider's key_count follows the keys created meanwhile, all else must stay as written. */
export function comparable(body: any): unknown {
  if (body && typeof body === 'object' && 'built_in' in body) {
    const { key_count: _keyCount, ...rest } = body;
    return rest;
  }
  return body;
}

/** The first member where two JSON values differ, for failure messages. */
export function difference(actual: unknown, wanted: unknown, path = ''): string {
  if (actual !== null && wanted !== null && typeof actual === 'object' && typeof wanted === 'object') {
    for (const key of new Set([...Object.keys(actual), ...Object.keys(wanted)])) {
      const [left, right] = [(actual as Record<string, unknown>)[key], (wanted as Record<string, unknown>)[key]];
      if (!isDeepStrictEqual(left, right)) return difference(left, right, `${path}.${key}`);
    }
  }
  return `${path || '(the whole value)'} = ${JSON.stringify(actual)?.slice(0, 200)} instead of ${JSON.stringify(wanted)?.slice(0, 200)}`;
}

