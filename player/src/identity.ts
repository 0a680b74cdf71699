import { createStore, del, get, set } from 'idb-keyval';
import type { Manifest } from '../../content/index.js';

const store = createStore('zonecast-player', 'kv');

/** Where on the page the screen's pixel rectangle starts, in device pixels. */
export interface Placement {
  readonly x: number;
  readonly y: number;
}

/**
 * The device token lives in IndexedDB, so that a player started once with `?token=` needs no
 * parameters afterwards; the token is then removed from the address bar.
 */
export async function loadIdentity(url: URL): Promise<{ token: string | null; placement: Placement }> {
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) await set('deviceToken', fromUrl, store);
  const num = (k: string) => {
    const v = url.searchParams.get(k);
    return v !== null && /^\d{1,5}$/.test(v) ? Number(v) : null;
  };
  const x = num('x');
  const y = num('y');
  if (x !== null || y !== null) await set('placement', { x: x ?? 0, y: y ?? 0 }, store);
  if (fromUrl) {
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + (url.search || '') + url.hash);
  }
  const token = fromUrl ?? ((await get<string>('deviceToken', store)) || null);
  const placement = (await get<Placement>('placement', store)) ?? { x: 0, y: 0 };
  return { token, placement };
}

/** Forgets the token (it was revoked). */
export async function forgetToken(): Promise<void> {
  await del('deviceToken', store);
}

/** The last manifest that was shown, for a start without the server. */
export async function loadLastManifest(): Promise<Manifest | null> {
  return (await get<Manifest>('manifest', store)) ?? null;
}

export async function saveLastManifest(m: Manifest): Promise<void> {
  await set('manifest', m, store);
}

/** The last known offset to the server clock, so that an offline start keeps correcting the PC clock. */
export async function loadClockOffset(): Promise<number | null> {
  return (await get<number>('clockOffset', store)) ?? null;
}

export async function saveClockOffset(offset: number): Promise<void> {
  await set('clockOffset', offset, store);
}
