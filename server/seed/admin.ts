import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR, checkPasswordStrength, hashPassword } from '../services/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Store, StoredUser } from '../services/store.js';

/** The first admin's login, returned only when it was just created. */
export interface BootstrapAdmin {
  readonly username: string;
  readonly password: string;
  /** True when the password was generated here and must be shown once. */
  readonly generated: boolean;
}

/**
 * On first start (no accounts at all) creates the system-wide admin `admin`. Its password is
 * ZONECAST_ADMIN_PASSWORD, or generated and returned so that main.ts prints it once.
 */
export async function ensureAdmin(store: Store, password: string | null): Promise<BootstrapAdmin | null> {
  if (store.read().users.length > 0) return null;
  const username = 'admin';
  const pw = password ?? randomBytes(15).toString('base64url');
  checkPasswordStrength(pw, username);
  const passwordHash = await hashPassword(pw);
  const created = await store.write((draft) => {
    if (draft.users.length > 0) return false;
    const now = new Date().toISOString();
    const doc: StoredUser = {
      id: 'u-admin',
      username,
      displayName: '系统管理员',
      role: 'city-admin',
      zoneId: null,
      disabled: false,
      passwordHash,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
    };
    draft.users.push(doc);
    recordAudit(draft, { actor: SYSTEM_ACTOR, action: 'user.create', entity: 'user', entityId: doc.id, zoneId: null, after: doc, detail: 'first start' });
    return true;
  });
  return created ? { username, password: pw, generated: password === null } : null;
}
