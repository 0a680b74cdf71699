import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import {
  LOGIN_POLICY,
  SESSION_POLICY,
  ROLE_PERMISSIONS,
  isCityLevel,
  passwordWeak,
  type AuditActor,
  type Me,
  type User,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Data, LoginCounter, Store, StoredSession, StoredUser } from './store.js';

/**
 * scrypt at OWASP's cost (N=2^16, r=8, p=2: 64 MiB, the same work as N=2^17, p=1 with half the
 * memory). The parameters are stored with each hash, so they can be raised later; a login with
 * an older hash re-hashes it.
 */
const SCRYPT = { N: 2 ** 16, r: 8, p: 2, keyLen: 32 } as const;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const maxmem = (N: number, r: number, p: number) => 128 * N * r * p + 32 * 1024 * 1024;

/** Hashes a password: `scrypt$N$r$p$salt$key`, base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLen } = SCRYPT;
  const key = await scrypt(password, salt, keyLen, { N, r, p, maxmem: maxmem(N, r, p) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Checks a password against a stored hash in constant time; reports whether it needs re-hashing. */
export async function verifyPassword(password: string, stored: string): Promise<{ ok: boolean; stale: boolean }> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !key) return { ok: false, stale: true };
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  const expected = Buffer.from(key, 'base64url');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N, r: R, p: P, maxmem: maxmem(N, R, P) });
  const ok = got.length === expected.length && timingSafeEqual(got, expected);
  return { ok, stale: N * R * P < SCRYPT.N * SCRYPT.r * SCRYPT.p };
}

// Checked against when the username is unknown, so that the answer takes as long as a real one.
let dummyHash: Promise<string> | null = null;

/** A password must be long enough and not the username. */
export function checkPasswordStrength(password: string, username: string): void {
  if (passwordWeak(password, username)) throw new AppError('PASSWORD_WEAK');
}

/** SHA-256 of a session id, as the store keeps it. */
export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The account as the API shows it, without its password hash. */
export function presentUser({ passwordHash: _omit, ...user }: StoredUser): User {
  return user;
}

/** What the composer needs to know about the logged-in user. */
export function meOf(user: StoredUser, data: Readonly<Data>): Me {
  const zones = new Map(data.zones.map((z) => [z.id, z]));
  return { user: presentUser(user), permissions: [...ROLE_PERMISSIONS[user.role]], cityLevel: isCityLevel(user, zones) };
}

/** The audit actor for a staff user. */
export function staffActor(user: Pick<User, 'id' | 'username'>): AuditActor {
  return { kind: 'staff', userId: user.id, username: user.username };
}

export const SYSTEM_ACTOR: AuditActor = { kind: 'system', userId: null, username: null };

export interface LoginResult {
  readonly sessionId: string;
  readonly user: StoredUser;
}

export interface AuthService {
  /** Checks the password under the throttling rules and opens a new session (replacing `previousSessionHash`). */
  login(username: string, password: string, address: string, previousSessionHash: string | null): Promise<LoginResult>;
  logout(sessionHash: string): Promise<void>;
  /** The live session and its user for a session id, extending the idle timeout now and then. */
  session(sessionId: string): Promise<{ session: StoredSession; user: StoredUser } | 'expired' | null>;
  changePassword(user: StoredUser, current: string, next: string, keepSessionHash: string): Promise<void>;
}

const counterKey = {
  user: (username: string) => `user:${username.toLowerCase()}`,
  addr: (address: string) => `addr:${address}`,
};

/** Whether a counter still applies at `now`; a window that has passed starts again from zero. */
function liveCounter(c: LoginCounter | undefined, now: number): LoginCounter | undefined {
  if (!c) return undefined;
  if (c.lockedUntil && Date.parse(c.lockedUntil) > now) return c;
  return Date.parse(c.firstAt) + LOGIN_POLICY.windowMs > now && !c.lockedUntil ? c : undefined;
}

// Only writes lastSeenAt when it is this stale, so that reading pages does not write the store each time.
const TOUCH_EVERY_MS = 60_000;

/**
 * Accounts, sessions and login throttling. Everything lives in the store (sessions, failure
 * counters, lockouts), so a restart or another server process sees the same state.
 */
export function createAuth(deps: { store: Store }): AuthService {
  const { store } = deps;
  const sessionIndex = new WeakMap<readonly StoredSession[], Map<string, StoredSession>>();
  const sessionsOf = (data: Readonly<Data>) => {
    let idx = sessionIndex.get(data.sessions);
    if (!idx) {
      idx = new Map(data.sessions.map((s) => [s.idHash, s]));
      sessionIndex.set(data.sessions, idx);
    }
    return idx;
  };

  async function fail(user: StoredUser | undefined, username: string, address: string): Promise<never> {
    const locked = await store.write((draft) => {
      const now = Date.now();
      const bump = (key: string, lockAt: number | null): LoginCounter => {
        const i = draft.loginCounters.findIndex((c) => c.key === key);
        const live = liveCounter(draft.loginCounters[i], now);
        const c: LoginCounter = live ? { ...live, failures: live.failures + 1 } : { key, failures: 1, firstAt: new Date(now).toISOString(), lockedUntil: null };
        if (lockAt !== null && c.failures >= lockAt && !c.lockedUntil) c.lockedUntil = new Date(now + LOGIN_POLICY.lockMs).toISOString();
        if (i >= 0) draft.loginCounters[i] = c;
        else draft.loginCounters.push(c);
        return c;
      };
      const byUser = bump(counterKey.user(username), LOGIN_POLICY.maxFailures);
      bump(counterKey.addr(address), null);
      const justLocked = byUser.lockedUntil !== null && byUser.failures === LOGIN_POLICY.maxFailures;
      recordAudit(draft, {
        actor: user ? staffActor(user) : { kind: 'staff', userId: null, username: username.slice(0, 64) },
        action: justLocked ? 'auth.locked' : 'auth.login-failed',
        entity: 'user',
        entityId: user?.id ?? null,
        zoneId: user?.zoneId ?? null,
        detail: `from ${address}, failure ${byUser.failures}`,
      });
      return justLocked;
    });
    throw new AppError(locked ? 'LOGIN_LOCKED' : 'LOGIN_FAILED');
  }

  return {
    async login(username, password, address, previousSessionHash) {
      const now = Date.now();
      const data = store.read();
      const lock = liveCounter(
        data.loginCounters.find((c) => c.key === counterKey.user(username)),
        now,
      );
      if (lock?.lockedUntil) throw new AppError('LOGIN_LOCKED', `retry after ${Math.ceil((Date.parse(lock.lockedUntil) - now) / 1000)} s`);
      const byAddr = liveCounter(
        data.loginCounters.find((c) => c.key === counterKey.addr(address)),
        now,
      );
      if (byAddr && byAddr.failures >= LOGIN_POLICY.maxFailuresPerAddress) throw new AppError('LOGIN_THROTTLED');

      const user = data.users.find((u) => u.username === username.toLowerCase());
      dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
      const { ok, stale } = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
      if (!user || !ok) return fail(user, username, address);
      if (user.disabled) throw new AppError('ACCOUNT_DISABLED');

      const rehash = stale ? await hashPassword(password) : null;
      const sessionId = randomBytes(32).toString('base64url');
      await store.write((draft) => {
        const at = new Date();
        const iso = at.toISOString();
        // A new session id at every login (no fixation); the one this browser held ends, as do expired ones.
        draft.sessions = draft.sessions.filter((s) => s.idHash !== previousSessionHash && Date.parse(s.expiresAt) > at.getTime());
        draft.sessions.push({
          idHash: hashSessionId(sessionId),
          userId: user.id,
          createdAt: iso,
          lastSeenAt: iso,
          expiresAt: new Date(at.getTime() + SESSION_POLICY.idleMs).toISOString(),
          absoluteExpiresAt: new Date(at.getTime() + SESSION_POLICY.absoluteMs).toISOString(),
        });
        draft.loginCounters = draft.loginCounters.filter((c) => c.key !== counterKey.user(username));
        const u = draft.users.find((x) => x.id === user.id);
        if (u && rehash) u.passwordHash = rehash;
        recordAudit(draft, { actor: staffActor(user), action: 'auth.login', entity: 'user', entityId: user.id, zoneId: user.zoneId, detail: `from ${address}` });
      });
      return { sessionId, user };
    },

    async logout(sessionHash) {
      await store.write((draft) => {
        const s = draft.sessions.find((x) => x.idHash === sessionHash);
        if (!s) return;
        draft.sessions = draft.sessions.filter((x) => x !== s);
        const user = draft.users.find((u) => u.id === s.userId);
        if (user) recordAudit(draft, { actor: staffActor(user), action: 'auth.logout', entity: 'user', entityId: user.id, zoneId: user.zoneId });
      });
    },

    async session(sessionId) {
      const idHash = hashSessionId(sessionId);
      const data = store.read();
      const session = sessionsOf(data).get(idHash);
      if (!session) return null;
      const now = Date.now();
      if (Date.parse(session.expiresAt) <= now || Date.parse(session.absoluteExpiresAt) <= now) return 'expired';
      const user = data.users.find((u) => u.id === session.userId);
      if (!user || user.disabled) return 'expired';
      if (now - Date.parse(session.lastSeenAt) > TOUCH_EVERY_MS) {
        await store.write((draft) => {
          const s = draft.sessions.find((x) => x.idHash === idHash);
          if (!s) return;
          s.lastSeenAt = new Date(now).toISOString();
          s.expiresAt = new Date(Math.min(now + SESSION_POLICY.idleMs, Date.parse(s.absoluteExpiresAt))).toISOString();
        });
      }
      return { session, user };
    },

    async changePassword(user, current, next, keepSessionHash) {
      const { ok } = await verifyPassword(current, user.passwordHash);
      if (!ok) throw new AppError('PASSWORD_WRONG');
      checkPasswordStrength(next, user.username);
      const passwordHash = await hashPassword(next);
      await store.write((draft) => {
        const u = draft.users.find((x) => x.id === user.id);
        if (!u) throw new AppError('NOT_FOUND', `users/${user.id}`);
        u.passwordHash = passwordHash;
        u.passwordChangedAt = u.updatedAt = new Date().toISOString();
        // Other sessions of this account end: whoever knew the old password is logged out.
        draft.sessions = draft.sessions.filter((s) => s.userId !== user.id || s.idHash === keepSessionHash);
        recordAudit(draft, { actor: staffActor(user), action: 'user.password', entity: 'user', entityId: user.id, zoneId: user.zoneId });
      });
    },
  };
}
