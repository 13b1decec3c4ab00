import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { resolvePredictionTarget } from './prediction-target.js';

const base = 'https://api.replicate.com';
const version = '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa';

describe('resolvePredictionTarget', () => {
  it('creates official-model predictions by owner/name', () => {
    expect(resolvePredictionTarget('meta/meta-llama-3-8b-instruct', {}, base)).toEqual({
      url: 'https://api.replicate.com/v1/models/meta/meta-llama-3-8b-instruct/predictions',
    });
  });

  it('uses /v1/predictions with the version for owner/name:version and bare version ids', () => {
    expect(resolvePredictionTarget(`replicate/hello-world:${version}`, {}, base)).toEqual({ url: `${base}/v1/predictions`, version });
    expect(resolvePredictionTarget(version, {}, base)).toEqual({ url: `${base}/v1/predictions`, version });
  });

  it('routes a model mapped to a deployment to the deployment endpoint, under a prefixed base', () => {
    const key = { replicate: { deployments: { 'meta/meta-llama-3-8b-instruct': 'acme/llama-prod' } } };
    expect(resolvePredictionTarget('meta/meta-llama-3-8b-instruct', key, 'http://proxy.local/replicate')).toEqual({
      url: 'http://proxy.local/replicate/v1/deployments/acme/llama-prod/predictions',
    });
    // Other models of the same key are unaffected.
    expect(resolvePredictionTarget('meta/meta-llama-3-70b-instruct', key, base).url).toBe(`${base}/v1/models/meta/meta-llama-3-70b-instruct/predictions`);
  });

  it('refuses malformed model names (400) and malformed deployment settings (500)', () => {
    const capture = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        if (isGatewayError(error)) return error.status;
      }
      return undefined;
    };
    expect(capture(() => resolvePredictionTarget('llama', {}, base))).toBe(400);
    expect(capture(() => resolvePredictionTarget('a/b/c', {}, base))).toBe(400);
    expect(capture(() => resolvePredictionTarget('m', { replicate: { deployments: { m: 'no-slash' } } }, base))).toBe(500);
  });
});
