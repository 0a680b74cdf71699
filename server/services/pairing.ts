import { createHash, randomBytes, randomInt } from 'node:crypto';
import { PAIRING_POLICY } from '../../content/index.js';
import { AppError } from '../errors.js';
import { SYSTEM_ACTOR } from './auth.js';
import { recordAudit } from './audit.js';
import type { Data, Store, StoredPairing } from './store.js';

/** A fresh device token: 32 random bytes, base64url. Only its hash is stored. */
export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a device token or pairing secret, as the store keeps them. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

// A claimed pairing is kept this long, so that a player that missed the push still gets its token on reconnect.
const CLAIMED_KEEP_MS = 24 * 60 * 60_000;

function prune(draft: Data, now: number): void {
  draft.pairings = draft.pairings.filter((p) => (p.claimedAt ? Date.parse(p.claimedAt) + CLAIMED_KEEP_MS > now : Date.parse(p.expiresAt) > now));
}

/** Players waiting at once from one address, and in all: anyone may open a pairing socket. */
const MAX_WAITING_PER_ADDRESS = 20;
const MAX_WAITING = 5000;

function freshCode(draft: Data): string {
  const taken = new Set(draft.pairings.filter((p) => !p.claimedAt).map((p) => p.code));
  // With at most MAX_WAITING of a million codes taken, a few draws always find a free one.
  for (let i = 0; i < 1000; i++) {
    const code = String(randomInt(0, 10 ** PAIRING_POLICY.digits)).padStart(PAIRING_POLICY.digits, '0');
    if (!taken.has(code)) return code;
  }
  throw new AppError('PAIRING_THROTTLED', 'no free pairing code');
}

/** What a pairing player is told on connection: its code, or its token if staff claimed it meanwhile. */
export type PairingOpen = { readonly pairing: StoredPairing; readonly claimed: { readonly screenId: string; readonly deviceToken: string } | null };

export interface PairingService {
  /** Finds or creates the pairing of a player's secret; a claimed one gets a new device token now. */
  open(secret: string, viewport: { width: number; height: number } | null, address?: string): Promise<PairingOpen>;
  /** A new code for a pairing whose code is near its end. */
  renew(pairingId: string): Promise<StoredPairing | null>;
  /** Forgets pairings of a screen that has connected with its token. */
  settle(screenId: string): Promise<void>;
}

/**
 * Pairing of fresh players. Each player keeps a random secret; the store keeps only its hash and
 * the short code shown on screen. Everything is in the store, so a player may reconnect to any
 * server process and still be recognised.
 */
export function createPairing(deps: { store: Store }): PairingService {
  const { store } = deps;
  return {
    open(secret, viewport, address = '') {
      const secretHash = hashSecret(secret);
      return store.write((draft): PairingOpen => {
        const now = Date.now();
        prune(draft, now);
        const found = draft.pairings.find((p) => p.secretHash === secretHash);
        if (found?.claimedScreenId) {
          const screen = draft.screens.find((s) => s.id === found.claimedScreenId);
          // The claimed screen was deleted before the player came back: start pairing afresh.
          if (!screen) draft.pairings = draft.pairings.filter((p) => p !== found);
          if (screen) {
            const deviceToken = newDeviceToken();
            screen.tokenHash = hashSecret(deviceToken);
            screen.updatedAt = new Date(now).toISOString();
            draft.pairings = draft.pairings.filter((p) => p !== found);
            recordAudit(draft, { actor: SYSTEM_ACTOR, action: 'screen.token-issued', entity: 'screen', entityId: screen.id, zoneId: screen.zoneId, detail: 'claimed pairing picked up on reconnect' });
            return { pairing: found, claimed: { screenId: screen.id, deviceToken } };
          }
        }
        if (found && !found.claimedAt) {
          if (viewport) found.viewport = viewport;
          return { pairing: found, claimed: null };
        }
        const waiting = draft.pairings.filter((p) => !p.claimedAt);
        if (waiting.length >= MAX_WAITING || waiting.filter((p) => p.address === address).length >= MAX_WAITING_PER_ADDRESS) {
          throw new AppError('PAIRING_THROTTLED', `from ${address}`);
        }
        const pairing: StoredPairing = {
          id: randomBytes(8).toString('hex'),
          address,
          code: freshCode(draft),
          secretHash,
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(now + PAIRING_POLICY.codeTtlMs).toISOString(),
          viewport,
          claimedScreenId: null,
          claimedAt: null,
          claimedBy: null,
        };
        draft.pairings.push(pairing);
        return { pairing, claimed: null };
      });
    },
    renew(pairingId) {
      return store.write((draft) => {
        const now = Date.now();
        const p = draft.pairings.find((x) => x.id === pairingId && !x.claimedAt);
        if (!p) return null;
        if (Date.parse(p.expiresAt) - now < PAIRING_POLICY.codeTtlMs / 2) {
          p.code = freshCode(draft);
          p.expiresAt = new Date(now + PAIRING_POLICY.codeTtlMs).toISOString();
        }
        return p;
      });
    },
    async settle(screenId) {
      if (!store.read().pairings.some((p) => p.claimedScreenId === screenId)) return;
      await store.write((draft) => {
        draft.pairings = draft.pairings.filter((p) => p.claimedScreenId !== screenId);
      });
    },
  };
}
