/** Vertex AI test support: a service account whose token_uri is the Google mock, and scripted Claude tool calls. */
import { generateKeyPairSync } from 'node:crypto';
import type { GoogleMock, RecordedRequest } from '../mocks/google-mock.js';
import { claudeToolCallReply } from '../support/claude-tool-call.js';
import type { ScriptedToolCall } from './sdk-matrix.js';

export interface ServiceAccount {
  /** The key file as an operator pastes it into vertex_key_config.auth_credentials. */
  json: string;
  clientEmail: string;
  publicKeyPem: string;
}

/** A fresh RSA service account; its token_uri is filled in once the mock runs (see `serviceAccountFor`). */
export function createKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** The service-account JSON of a key pair, pointing at the mock's token endpoint. */
export function serviceAccountFor(keys: { publicKeyPem: string; privateKeyPem: string }, tokenUrl: string, clientEmail: string): ServiceAccount {
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'tollgate-test',
    private_key_id: 'kid-tollgate-0001',
    private_key: keys.privateKeyPem,
    client_email: clientEmail,
    client_id: '100000000000000000001',
    token_uri: tokenUrl,
  });
  return { json, clientEmail, publicKeyPem: keys.publicKeyPem };
}

/** The model calls (chat and embeddings) among what the mock received, token requests left out. */
export function modelRequests(mock: GoogleMock): RecordedRequest[] {
  return mock.requests.filter((request) => request.path.startsWith('/v1/projects/'));
}

export function chatRequests(mock: GoogleMock): RecordedRequest[] {
  // Claude's token counter is a rawPredict too, at the model name `count-tokens`.
  return modelRequests(mock).filter((request) => /\/models\/(?!count-tokens:)[^/]+:(generateContent|streamGenerateContent|rawPredict|streamRawPredict)$/.test(request.path));
}

/** Queues Claude-on-Vertex's answer to the next model call: a tool_use of `call.name`, in Anthropic's shapes. */
export function scriptClaudeToolCall(mock: GoogleMock, call: ScriptedToolCall, stream: boolean, model: string): void {
  const reply = claudeToolCallReply(call, model, 'msg_vrtx_tool_0001');
  mock.enqueue(stream ? { streamRecords: reply.events } : { status: 200, body: reply.message });
}
