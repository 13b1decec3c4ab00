/**
 * Azure OpenAI authentication: an `api-key` header (with the resource's secondary key as a fallback after a
 * 401), or an Entra ID bearer token, from client credentials or, for a key with neither a secret nor an api-key, from
 * the identity of the host Tollgate runs on.
 */
import { errors } from '../../spec/errors.js';
import type { ProviderContext, UpstreamResponse } from '../../spec/provider.js';
import { entraClientOf, type EntraTokenCache } from './entra-token-cache.js';

/**
 * The auth header of one attempt. Complete Entra client credentials win over a key value, because configuring
 * them is the deliberate choice; otherwise `key.value` is the resource key, and a key with neither acts as the host's
 * identity.
 */
export async function azureAuthHeaders(context: ProviderContext, tokens: EntraTokenCache): Promise<Record<string, string>> {
  const client = entraClientOf(context);
  if (client !== undefined) return { authorization: `Bearer ${await tokens.token(client, context)}` };
  if (context.key.value !== '') return { 'api-key': context.key.value };
  throw errors.internal('The Azure key has neither an API key nor Entra client credentials.', { code: 'provider_credentials_missing' });
}

/**
 * The context for one more attempt with the resource's secondary key (`key2`), when the primary key was just
 * refused: the reply is a 401, the key authenticates with an API key and has a `key2`. The returned context
 * carries `key2` as its `value` and no further `key2`, so asking again for it yields undefined: the fallback
 * happens at most once per request. Undefined when no fallback applies.
 */
export function secondaryKeyContext(response: UpstreamResponse, context: ProviderContext): ProviderContext | undefined {
  const azure = context.key.azure;
  if (response.status !== 401 || azure?.key2 === undefined || azure.key2 === '') return undefined;
  if (entraClientOf(context) !== undefined || azure.key2 === context.key.value) return undefined;
  return { ...context, key: { ...context.key, value: azure.key2, azure: { ...azure, key2: undefined } } };
}
