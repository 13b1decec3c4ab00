import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import { Catalog } from '../../store/catalog.js';
import type { KeyRecord } from '../../store/key-record.js';
import type { ProviderRecord } from '../../store/provider-repository.js';
import { Router } from './router.js';
import { catalogOnlyAdapters, customProviderRecord as customProvider, keyRecord as key } from '../../../test/support/catalog-records.js';

const adapters = catalogOnlyAdapters({ openai: ['gpt-4o', 'gpt-4o-mini'], anthropic: ['claude-sonnet-4-5'], vllm: [] });

function routerOver(providers: ProviderRecord[], keys: KeyRecord[]): Router {
  const catalog = new Catalog();
  catalog.replace(providers, keys);
  return new Router(catalog, adapters, () => 0);
}

function refusal(router: Router, model: string): GatewayError {
  try {
    router.resolve(model);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error(`"${model}" resolved`);
}

describe('Router with keyless providers', () => {
  it('resolves a bare name of the base type catalog to a keyless provider, which serves it with its slot', () => {
    const router = routerOver([customProvider('local', 'openai', true)], []);
    const target = router.resolve('gpt-4o');
    expect(target.provider.name).toBe('local');
    expect(target.model).toBe('gpt-4o');
    expect(router.eligibleKeys(target).map((slot) => slot.id)).toEqual(['keyless:local']);
  });

  it('refuses a bare name that a keyless provider and a provider with a key both serve, naming both', () => {
    const router = routerOver([customProvider('local', 'openai', true)], [key('openai', 'openai-key')]);
    const error = refusal(router, 'gpt-4o-mini');
    expect(error.status).toBe(400);
    expect(error.code).toBe('model_ambiguous');
    expect(error.message).toContain('"openai/gpt-4o-mini"');
    expect(error.message).toContain('"local/gpt-4o-mini"');
    // Addressed with its prefix, each is reachable.
    expect(router.resolve('local/gpt-4o-mini').provider.name).toBe('local');
    expect(router.resolve('openai/gpt-4o-mini').provider.name).toBe('openai');
  });

  it('refuses a bare name that two keyless providers of one base type serve', () => {
    const router = routerOver([customProvider('local', 'openai', true), customProvider('other', 'openai', true)], []);
    expect(refusal(router, 'gpt-4o').code).toBe('model_ambiguous');
  });

  it('lets a key that lists a model win over a keyless provider that only knows it from its catalog', () => {
    const router = routerOver([customProvider('local', 'openai', true)], [key('anthropic', 'listing', { models: ['gpt-4o'] })]);
    expect(router.resolve('gpt-4o').provider.name).toBe('anthropic');
  });

  it('does not resolve a bare name outside the base type catalog, though the prefixed name is served', () => {
    const router = routerOver([customProvider('local', 'openai', true), customProvider('lab', 'vllm', true)], []);
    expect(refusal(router, 'tiny-chat').code).toBe('model_not_found');
    const target = router.resolve('lab/tiny-chat');
    expect(router.eligibleKeys(target).map((slot) => slot.id)).toEqual(['keyless:lab']);
  });

  it('still treats a custom provider with keys as before: only its enabled keys make it answer for bare names', () => {
    const router = routerOver([customProvider('proxy', 'openai', false)], [key('proxy', 'off', { enabled: false })]);
    // No enabled key anywhere: the built-in provider whose catalog has the model answers.
    expect(router.resolve('gpt-4o').provider.name).toBe('openai');
  });
});

describe('Router.pick', () => {
  const provider: ProviderRecord = {
    name: 'openai',
    custom: false,
    settings: {},
    config_hash: '',
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
  };

  function weightedRouter(draws: number[], keys: KeyRecord[]): { router: Router; draws: number[] } {
    const catalog = new Catalog();
    catalog.replace([provider], keys);
    const remaining = [...draws];
    const router = new Router(catalog, adapters, () => 1_000, () => {
      const next = remaining.shift();
      if (next === undefined) throw new Error('no random draw left');
      return next;
    });
    return { router, draws: remaining };
  }

  const keys = [key('openai', 'a', { weight: 1 }), key('openai', 'b', { weight: 2 }), key('openai', 'c', { weight: 7 })];

  it('chooses by weight in key order, one random draw per choice', () => {
    const { router, draws } = weightedRouter([0.05, 0.15, 0.29, 0.31, 0.99], keys);
    const target = router.resolve('openai/gpt-4o');
    const chosen = [0, 1, 2, 3, 4].map(() => router.pick(target, { exclude: new Set() })?.id);
    expect(chosen).toEqual(['a', 'b', 'b', 'c', 'c']);
    expect(draws).toEqual([]);
  });

  it('draws nothing when one key is left, and skips excluded, cooling and failing keys while a healthy one remains', () => {
    const failing = key('openai', 'f', { weight: 1_000, status: 'failing: upstream answered 401 (invalid_api_key)' });
    const { router, draws } = weightedRouter([0.5], [...keys, failing]);
    const target = router.resolve('openai/gpt-4o');
    router.coolDown('c', 60_000);
    expect(router.pick(target, { exclude: new Set(['a']) })?.id).toBe('b');
    // a and b are left, weights 1 and 2: 0.5 × 3 = 1.5 falls on b.
    expect(router.pick(target, { exclude: new Set() })?.id).toBe('b');
    expect(draws).toEqual([]);
    expect(router.pick(target, { pinned: 'a', exclude: new Set() })?.id).toBe('a');
  });

  it('falls back to a failing key, never to a cooling one, when no healthy key is left', () => {
    const failing = key('openai', 'f', { status: 'failing: upstream answered 401 (invalid_api_key)' });
    const { router } = weightedRouter([], [key('openai', 'a'), failing]);
    const target = router.resolve('openai/gpt-4o');
    router.coolDown('a', 60_000);
    expect(router.pick(target, { exclude: new Set() })?.id).toBe('f');
    expect(router.pick(target, { exclude: new Set(['f']) })).toBeUndefined();
  });
});
