/**
 * Where a prediction for a model is created. Replicate has three create endpoints: official models by name,
 * deployments (the key maps a model to `owner/name` of a deployment) and specific versions (`owner/name:<id>`).
 */
import { errors } from '../../spec/errors.js';
import type { ResolvedKey } from '../../spec/provider.js';

/** The create URL and, for version predictions, the version the body must name. */
export interface PredictionTarget {
  url: string;
  version?: string;
}

/** A bare version id: Replicate versions are 64 hex characters. */
const VERSION_ID = /^[0-9a-f]{64}$/i;

/**
 * Resolves the create endpoint for `model` under `base` (origin plus optional prefix, no trailing slash).
 * Throws a 400 for a model that is neither `owner/name`, `owner/name:version` nor a version id, and a 500 for a
 * deployment mapping that is not `owner/name` (a configuration mistake, not the client's).
 */
export function resolvePredictionTarget(model: string, key: Pick<ResolvedKey, 'replicate'>, base: string): PredictionTarget {
  const deployment = key.replicate?.deployments[model];
  if (deployment !== undefined) {
    const parts = splitOwnerName(deployment);
    if (!parts) {
      throw errors.internal(`The Replicate deployment configured for "${model}" must be "owner/name".`, { code: 'provider_misconfigured' });
    }
    return { url: `${base}/v1/deployments/${parts.map(encodeURIComponent).join('/')}/predictions` };
  }
  const colon = model.lastIndexOf(':');
  if (colon > 0) {
    const version = model.slice(colon + 1);
    if (splitOwnerName(model.slice(0, colon)) && version !== '') return { url: `${base}/v1/predictions`, version };
  }
  if (VERSION_ID.test(model)) return { url: `${base}/v1/predictions`, version: model };
  const parts = splitOwnerName(model);
  if (!parts) {
    throw errors.badRequest(`Replicate models are named "owner/name" or "owner/name:version"; got "${model}".`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
  return { url: `${base}/v1/models/${parts.map(encodeURIComponent).join('/')}/predictions` };
}

function splitOwnerName(value: string): [string, string] | undefined {
  const parts = value.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return [parts[0]!, parts[1]!];
}
