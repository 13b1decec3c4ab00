import { errors } from '../../spec/errors.js';
import type { ProviderSettings } from '../../spec/provider.js';
import {
  builtInProviderNames,
  defaultConcurrency,
  defaultNetworkConfig,
  type NetworkConfig,
  type ProviderView,
  type UpdateProviderInput,
} from '../../spec/schemas/provider.js';
import type { ProviderRecord } from '../../store/provider-repository.js';

const builtIns: ReadonlySet<string> = new Set(builtInProviderNames);

/** Headers about the message's framing and the connection, which the HTTP client (undici) sets itself and refuses. */
const clientManagedHeaders: ReadonlySet<string> = new Set(['content-length', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** A header value the HTTP client sends (RFC 9110 field content as undici checks it): no control character but tab. */
const headerValuePattern = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True for the providers that exist from the start. */
export function isBuiltInProvider(name: string): boolean {
  return builtIns.has(name);
}

/** A provider's effective settings, defaults applied. */
export interface EffectiveProvider {
  name: string;
  builtIn: boolean;
  network: NetworkConfig;
  concurrency: { concurrency: number; buffer_size: number };
  custom: { base_provider_type: string; is_key_less: boolean } | null;
  /** The adapter type that speaks for this provider. */
  adapterType: string;
  keyless: boolean;
  record: ProviderRecord | undefined;
}

/** Merges a stored record (if any) over the defaults; undefined for an unknown name. */
export function effectiveProvider(name: string, record: ProviderRecord | undefined): EffectiveProvider | undefined {
  if (!record && !isBuiltInProvider(name)) return undefined;
  const settings = (record?.settings ?? {}) as {
    network_config?: Partial<NetworkConfig> | null;
    concurrency_and_buffer_size?: { concurrency?: number; buffer_size?: number } | null;
    custom_provider_config?: { base_provider_type: string; is_key_less?: boolean } | null;
  };
  const custom = settings.custom_provider_config
    ? { base_provider_type: settings.custom_provider_config.base_provider_type, is_key_less: settings.custom_provider_config.is_key_less ?? false }
    : null;
  return {
    name,
    builtIn: isBuiltInProvider(name),
    network: { ...defaultNetworkConfig, ...stripNulls(settings.network_config ?? {}) } as NetworkConfig,
    concurrency: { ...defaultConcurrency, ...stripNulls(settings.concurrency_and_buffer_size ?? {}) },
    custom,
    adapterType: custom?.base_provider_type ?? name,
    keyless: custom?.is_key_less ?? false,
    record,
  };
}

function stripNulls<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== null && entry !== undefined)) as Partial<T>;
}

/** The wire form of a provider. */
export function toProviderView(provider: EffectiveProvider, keyCount: number): ProviderView {
  return {
    name: provider.name,
    built_in: provider.builtIn,
    network_config: provider.network,
    concurrency_and_buffer_size: provider.concurrency,
    custom_provider_config: provider.custom,
    key_count: keyCount,
    created_at: provider.record?.created_at ?? null,
    updated_at: provider.record?.updated_at ?? null,
  };
}

/** The settings part of a create/update body, validated beyond the schema; returns what is stored. */
export function settingsFromInput(
  input: Pick<UpdateProviderInput, 'network_config' | 'concurrency_and_buffer_size' | 'custom_provider_config'>,
  options: { custom: boolean },
): Record<string, unknown> {
  const network = input.network_config ?? {};
  if (
    network.retry_backoff_initial !== undefined &&
    network.retry_backoff_max !== undefined &&
    network.retry_backoff_initial > network.retry_backoff_max
  ) {
    throw errors.badRequest('retry_backoff_initial must not exceed retry_backoff_max', {
      param: 'network_config.retry_backoff_initial',
    });
  }
  if (network.extra_headers) {
    for (const [name, value] of Object.entries(network.extra_headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw errors.badRequest(`"${name}" is not a valid HTTP header name`, { param: 'network_config.extra_headers' });
      }
      // The HTTP client refuses these on every request, so a stored one would fail each request sent to the provider.
      if (clientManagedHeaders.has(name.toLowerCase())) {
        throw errors.badRequest(`"${name}" is set by Tollgate's HTTP client and cannot be an extra header`, { param: 'network_config.extra_headers' });
      }
      // The value may be a credential: the message names the header only.
      if (!headerValuePattern.test(value)) {
        throw errors.badRequest(`The value of header "${name}" may hold only tabs, spaces, visible ASCII and Latin-1 characters (no line breaks)`, {
          param: 'network_config.extra_headers',
        });
      }
    }
  }
  if (options.custom) {
    const base = input.custom_provider_config?.base_provider_type;
    if (!base) {
      throw errors.badRequest('custom providers need custom_provider_config.base_provider_type (e.g. "openai" or "anthropic")', {
        param: 'custom_provider_config.base_provider_type',
      });
    }
    if (!isBuiltInProvider(base)) {
      throw errors.badRequest(`base_provider_type must be one of: ${builtInProviderNames.join(', ')}`, {
        param: 'custom_provider_config.base_provider_type',
      });
    }
  } else if (input.custom_provider_config) {
    throw errors.badRequest('custom_provider_config applies only to custom providers', { param: 'custom_provider_config' });
  }
  const settings: Record<string, unknown> = {};
  if (input.network_config) settings.network_config = input.network_config;
  if (input.concurrency_and_buffer_size) settings.concurrency_and_buffer_size = input.concurrency_and_buffer_size;
  if (input.custom_provider_config) settings.custom_provider_config = input.custom_provider_config;
  return settings;
}

// Catalog snapshots are copy-on-write, so a provider object stands for one version of its settings and its
// derived form can be kept for as long as that object lives.
const settingsCache = new WeakMap<EffectiveProvider, ProviderSettings>();

/** What adapters learn about a provider (spec/provider.ts), in the units the core uses; derived once per provider version. */
export function toProviderSettings(provider: EffectiveProvider): ProviderSettings {
  let settings = settingsCache.get(provider);
  if (!settings) {
    settings = deriveProviderSettings(provider);
    settingsCache.set(provider, settings);
  }
  return settings;
}

function deriveProviderSettings(provider: EffectiveProvider): ProviderSettings {
  const network = provider.network;
  return {
    name: provider.name,
    adapterType: provider.adapterType,
    network: {
      ...(network.base_url ? { baseUrl: network.base_url } : {}),
      extraHeaders: network.extra_headers,
      timeoutMs: network.default_request_timeout_in_seconds * 1000,
      maxRetries: network.max_retries,
      retryBackoffInitialMs: network.retry_backoff_initial,
      retryBackoffMaxMs: network.retry_backoff_max,
    },
  };
}

