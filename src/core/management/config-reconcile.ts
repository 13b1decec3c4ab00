import { createHash } from 'node:crypto';
import type { ConfigFile } from '../../config/config-file.js';
import { GatewayError, errors, isGatewayError } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { KeyService } from './key-service.js';
import type { ProviderService } from './provider-service.js';
import { isBuiltInProvider, settingsFromInput } from './provider-settings.js';

/** What a reconcile did, for the start-up log. */
export interface ReconcileReport {
  providersApplied: string[];
  keysCreated: string[];
  keysReplaced: string[];
  keysKept: string[];
}

/** A stable hash of a config entry: keys sorted, so that formatting and order do not matter. */
export function entryHash(entry: unknown): string {
  return createHash('sha256').update(stableStringify(entry)).digest('hex').slice(0, 32);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${stableStringify(child)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Applies the configuration file to the store. An entry whose hash equals the stored `config_hash` is unchanged
 * since the last start, so edits made through the API are kept; a changed entry replaces the stored one.
 * Keys are matched by `id`, else by provider and `name`, else (renamed through the API) by provider and entry hash.
 * Keys absent from the file are left alone.
 */
export async function reconcileConfigFile(
  file: ConfigFile,
  services: { providers: ProviderService; keys: KeyService; clock: Clock },
): Promise<ReconcileReport> {
  const report: ReconcileReport = { providersApplied: [], keysCreated: [], keysReplaced: [], keysKept: [] };
  for (const [name, entry] of Object.entries(file.providers)) {
    const { keys = [], ...settingsEntry } = entry;
    const hash = entryHash(settingsEntry);
    const existing = services.providers.find(name);
    if (!existing && !settingsEntry.custom_provider_config) {
      throw errors.badRequest(`TOLLGATE_CONFIG: provider "${name}" is not built in; give it custom_provider_config.base_provider_type`);
    }
    if (existing?.record?.config_hash !== hash && (Object.keys(settingsEntry).length > 0 || !existing)) {
      const now = new Date(services.clock()).toISOString();
      await services.providers.save({
        name,
        custom: !isBuiltInProvider(name),
        settings: settingsFromInput(settingsEntry, { custom: !isBuiltInProvider(name) }),
        config_hash: hash,
        created_at: existing?.record?.created_at ?? now,
        updated_at: now,
      });
      report.providersApplied.push(name);
    }
    for (const keyEntry of keys) {
      if (keyEntry.id === undefined && keyEntry.name === undefined) {
        throw errors.badRequest(`TOLLGATE_CONFIG: every key of provider "${name}" needs an id or a name`);
      }
      const keyHash = entryHash(keyEntry);
      const siblings = () => services.keys.list(name).map((view) => services.keys.findById(view.id)!);
      // An unchanged entry whose key was renamed through the API is still that key: its hash finds it.
      const current = keyEntry.id !== undefined
        ? services.keys.findById(keyEntry.id)
        : (siblings().find((record) => record.name === keyEntry.name) ?? siblings().find((record) => record.config_hash === keyHash));
      const label = `${name}/${keyEntry.name ?? keyEntry.id}`;
      if (!current) {
        await inEntry(label, () => services.keys.create(name, keyEntry, { configHash: keyHash }));
        report.keysCreated.push(label);
      } else if (current.config_hash === keyHash) {
        report.keysKept.push(label);
      } else {
        if (current.provider !== name) {
          throw errors.conflict(`TOLLGATE_CONFIG: key "${current.id}" belongs to provider "${current.provider}", not "${name}"`);
        }
        await inEntry(label, () => services.keys.replace(name, current.id, { ...keyEntry, id: current.id }, { configHash: keyHash }));
        report.keysReplaced.push(label);
      }
    }
  }
  return report;
}

/** Runs a key write for a file entry; a refusal names the entry, as a start-up error must say where to look. */
async function inEntry(label: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    throw new GatewayError({
      status: error.status,
      type: error.type,
      code: error.code,
      param: error.param,
      message: `TOLLGATE_CONFIG: key "${label}": ${error.message}`,
      cause: error,
    });
  }
}
