import { createStore, del, delMany, get, set } from 'idb-keyval';
import type { Manifest } from '../../content/index.js';

const store = createStore('zonecast-player', 'kv');

/** Where on the page the screen's pixel rectangle starts, in device pixels. */
export interface Placement {
  readonly x: number;
  readonly y: number;
}

/**
 * The device token lives in IndexedDB, so that a player started once with `?token=` needs no
 * parameters afterwards; the token is then removed from the address bar. A kiosk that always
 * starts with the same `?token=` in its address must not bring back a token the server revoked
 * over one it was paired with since, so a URL token equal to the last revoked one is ignored.
 */
export async function loadIdentity(url: URL): Promise<{ token: string | null; placement: Placement }> {
  const param = url.searchParams.get('token');
  const fromUrl = param && param !== (await get<string>('revokedToken', store)) ? param : null;
  if (fromUrl) await set('deviceToken', fromUrl, store);
  const num = (k: string) => {
    const v = url.searchParams.get(k);
    return v !== null && /^\d{1,5}$/.test(v) ? Number(v) : null;
  };
  const x = num('x');
  const y = num('y');
  if (x !== null || y !== null) await set('placement', { x: x ?? 0, y: y ?? 0 }, store);
  if (param) {
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + (url.search || '') + url.hash);
  }
  const token = fromUrl ?? ((await get<string>('deviceToken', store)) || null);
  const placement = (await get<Placement>('placement', store)) ?? { x: 0, y: 0 };
  return { token, placement };
}

/**
 * The secret a player without a token pairs with, made once and kept until it is paired, so
 * that a reload or a reconnect shows the same code. 32 random bytes, base64url.
 */
export async function loadPairingSecret(): Promise<string> {
  const kept = await get<string>('pairingSecret', store);
  if (kept) return kept;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  await set('pairingSecret', secret, store);
  return secret;
}

/** Keeps the token staff issued by claiming this player's code; the pairing secret has served. */
export async function savePairedToken(token: string): Promise<void> {
  await set('deviceToken', token, store);
  await del('pairingSecret', store);
}

/**
 * Forgets the revoked token and the manifest it brought, so that the screen stops showing its
 * zone's content even after a restart without the server. The placement stays: it describes
 * how this PC is wired to its wall, which a new pairing does not change.
 */
export async function forgetScreen(revokedToken: string | null): Promise<void> {
  await delMany(['deviceToken', 'manifest'], store);
  if (revokedToken) await set('revokedToken', revokedToken, store);
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
