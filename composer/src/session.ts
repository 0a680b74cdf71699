import { computed, reactive } from 'vue';
import { CITY_LEVEL_PERMISSIONS, inSubtree, type Me, type Permission, type Zone } from '../../content/index.js';
import { api } from './http.js';
import { isAuthExpiry } from './lib/api-error.js';

/** Who is logged in and the zones they may read, shared by every page. */
export const session = reactive({
  me: null as Me | null,
  /** False until the first `GET /api/auth/me` has answered. */
  checked: false,
  bootError: null as unknown,
  zones: [] as Zone[],
});

export const zonesById = computed(() => new Map(session.zones.map((z) => [z.id, z])));

/** Asks the server whether the session cookie is still good. */
export async function restore(): Promise<void> {
  session.bootError = null;
  try {
    session.me = await api.get<Me>('/api/auth/me', { reauth: false });
  } catch (e) {
    if (isAuthExpiry(e)) session.me = null;
    else session.bootError = e;
  }
  session.checked = true;
}

/** Logs in; the caller decides what a different user means for the page. */
export async function login(username: string, password: string): Promise<Me> {
  return api.post<Me>('/api/auth/login', { username, password }, { reauth: false });
}

/** Ends the session and starts the app afresh, so nothing of this user stays in memory. */
export async function logout(): Promise<void> {
  await api.post('/api/auth/logout', undefined, { reauth: false }).catch(() => undefined);
  location.replace(import.meta.env.BASE_URL);
}

/** Loads the zones the user may read. */
export async function loadZones(): Promise<void> {
  session.zones = await api.get<Zone[]>('/api/zones');
}

/**
 * True when the user may do `permission` somewhere: the role grants it, and city-level
 * permissions also need a city-level binding (as the server checks with `denial`).
 */
export function can(permission: Permission): boolean {
  const me = session.me;
  if (!me?.permissions.includes(permission)) return false;
  return !CITY_LEVEL_PERMISSIONS.includes(permission) || me.cityLevel;
}

/** True when the user may act in `zoneId` (their own subtree). */
export function mayActIn(zoneId: string): boolean {
  return session.me !== null && inSubtree(session.me.user, zoneId, zonesById.value);
}

/** A zone's full name, or its id when the user cannot read it. */
export function zoneName(zoneId: string | null): string {
  if (zoneId === null) return '';
  return zonesById.value.get(zoneId)?.name ?? zoneId;
}
