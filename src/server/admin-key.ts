import { randomBytes } from 'node:crypto';
import { hashCredential } from '../core/auth/authenticator.js';
import type { SettingsRepository } from '../store/settings-repository.js';

/**
 * The admin key's hash: from TOLLGATE_ADMIN_KEY when set; otherwise the hash stored at first start. On the very
 * first start without one, a key is generated and handed to `announce` once; only its hash is kept.
 */
export async function resolveAdminKeyHash(
  configured: string | undefined,
  settings: SettingsRepository,
  announce: (key: string) => void,
): Promise<Buffer> {
  if (configured !== undefined) return hashCredential(configured);
  const stored = await settings.get('admin_key_sha256');
  if (stored) return Buffer.from(stored, 'hex');
  const key = `tg-admin-${randomBytes(32).toString('base64url')}`;
  const hash = hashCredential(key);
  const kept = await settings.setIfAbsent('admin_key_sha256', hash.toString('hex'));
  // Another process may have won the race; its key is the one that works, and it announced it.
  if (kept === hash.toString('hex')) announce(key);
  return Buffer.from(kept, 'hex');
}
