/**
 * Google credential files (Application Default Credentials) by their `type`: a service account's key
 * (`service_account`), a user's refresh token (`authorized_user`), or workload identity federation
 * (`external_account`). A key's own credentials may be the first two; federation reads files and URLs the credential
 * names, so it is taken only from the host's GOOGLE_APPLICATION_CREDENTIALS file, which the operator controls.
 */
import { missingAuthorizedUserFields, parseAuthorizedUser, type AuthorizedUserCredential } from './authorized-user-token.js';
import { parseExternalAccount, type ExternalAccountCredential } from './external-account-token.js';
import { credentialError, parseServiceAccountCredential, type ServiceAccountCredential } from './service-account-token.js';

/** A credential ready to be traded for tokens, with the project its calls bill quota to when the file names one. */
export type GoogleCredential = { quotaProject?: string } & (
  | { type: 'service_account'; account: ServiceAccountCredential }
  | { type: 'authorized_user'; user: AuthorizedUserCredential }
  | { type: 'external_account'; external: ExternalAccountCredential }
);

/** Where a credential comes from: a key's own (auth_credentials or its value) or the host's file. */
export type CredentialOrigin = 'key' | 'host';

const KEY_TYPES = "'service_account' or 'authorized_user'";
const HOST_TYPES = "'service_account', 'authorized_user' or 'external_account'";
const HOST_ONLY =
  "taken only from the GOOGLE_APPLICATION_CREDENTIALS file, not from a key: they make Tollgate read the files and URLs they name. Give the key a service_account or authorized_user JSON, or neither (the host's identity)";
const EXTERNAL = 'external_account credentials (workload identity federation)';

function objectOf(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

function quotaProjectOf(record: Record<string, unknown>): { quotaProject?: string } {
  const project = record.quota_project_id;
  return typeof project === 'string' && project !== '' ? { quotaProject: project } : {};
}

/**
 * Reads a credential JSON text of any supported type (no `type` means a service account, as older key files have);
 * throws a GatewayError naming what is wrong, never echoing a secret. `keyName` names the key in the messages.
 */
export function parseGoogleCredential(text: string, keyName: string, origin: CredentialOrigin): GoogleCredential {
  const record = text.trim() === '' ? undefined : objectOf(text);
  const type = record?.type;
  // Malformed text and service accounts keep the service-account parser's own diagnosis.
  if (record === undefined || type === undefined || type === 'service_account') {
    return { type: 'service_account', account: parseServiceAccountCredential(text, keyName), ...(record ? quotaProjectOf(record) : {}) };
  }
  const fail = (problem: string) => credentialError(keyName, problem);
  if (type === 'authorized_user') return { type, user: parseAuthorizedUser(record, fail), ...quotaProjectOf(record) };
  if (type === 'external_account') {
    if (origin === 'key') throw fail(`${EXTERNAL} are ${HOST_ONLY}`);
    return { type, external: parseExternalAccount(record, fail), ...quotaProjectOf(record) };
  }
  throw fail(`type is '${String(type).slice(0, 40)}', expected ${origin === 'key' ? KEY_TYPES : HOST_TYPES}`);
}

/**
 * What the key rules refuse in a key's own credentials (vertex auth_credentials, or a JSON value), at creation rather
 * than at the first request: a JSON text that does not parse, a type a key cannot carry (external_account among them),
 * an authorized_user without its fields. Undefined when the text passes (or is not JSON: that stays the request's to
 * refuse, as it always was). Never quotes the text.
 */
export function keyCredentialProblem(text: string): string | undefined {
  if (!text.trim().startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not valid JSON (a Google credential file is expected)';
  }
  // A text that opens with a brace and parses is an object.
  const record = parsed as Record<string, unknown>;
  const type = record.type;
  if (type === undefined || type === 'service_account') return undefined;
  if (type === 'external_account') return `holds ${EXTERNAL}, which are ${HOST_ONLY}`;
  if (type !== 'authorized_user') return `has type '${String(type).slice(0, 40)}'; a key's credentials are of type ${KEY_TYPES}`;
  const missing = missingAuthorizedUserFields(record);
  return missing.length > 0 ? `is an authorized_user credential without ${missing.join(', ')}` : undefined;
}
