import path from 'node:path';
import { Low } from 'lowdb';
import type { Alert, AuditEntry, ContentRecord, Delivery, Layout, Media, Playlist, Schedule, Screen, User, Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { DurableJsonFile } from './durable-file.js';
import { groupCommit } from './group-commit.js';

/** A screen as stored: the device token is kept only as its SHA-256. */
export type StoredScreen = Screen & { tokenHash: string };

/** A staff account as stored: with its scrypt password hash. */
export type StoredUser = User & { passwordHash: string };

/** A login session; the cookie carries the id, the store only its SHA-256. */
export interface StoredSession {
  idHash: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  /** Idle expiry, pushed forward as the session is used. */
  expiresAt: string;
  absoluteExpiresAt: string;
}

/** Failed logins of one account (`user:<name>`) or one address (`addr:<ip>`) in the current window. */
export interface LoginCounter {
  key: string;
  failures: number;
  firstAt: string;
  lockedUntil: string | null;
}

/** A player waiting to be paired, or paired and not yet handed its token. */
export interface StoredPairing {
  id: string;
  code: string;
  secretHash: string;
  /** The client address that opened it, to limit how many one address may hold. */
  address: string;
  createdAt: string;
  expiresAt: string;
  viewport: { width: number; height: number } | null;
  claimedScreenId: string | null;
  claimedAt: string | null;
  claimedBy: string | null;
}

/** The head of the audit chain, and entries committed with their change but not yet in the log file. */
export interface AuditState {
  head: { seq: number; hash: string } | null;
  outbox: AuditEntry[];
}

/** An API token for machine clients (a CAP feed): it acts as its user; only its hash is kept. */
export interface StoredApiToken {
  id: string;
  name: string;
  userId: string;
  tokenHash: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** When a screen was last heard from, written coarsely, for the offline sweep. */
export interface ScreenSeen {
  screenId: string;
  lastSeenAt: string;
  offlineSince: string | null;
}

export const STORE_SCHEMA = 2;

/** The whole embedded document. */
export interface Data {
  meta: { schema: typeof STORE_SCHEMA; createdAt: string; seededDemo: boolean };
  zones: Zone[];
  screens: StoredScreen[];
  content: ContentRecord[];
  layouts: Layout[];
  playlists: Playlist[];
  schedules: Schedule[];
  media: Media[];
  users: StoredUser[];
  sessions: StoredSession[];
  loginCounters: LoginCounter[];
  pairings: StoredPairing[];
  audit: AuditState;
  alerts: Alert[];
  /**
   * CAP messages that amended an alert (an Update), by `sender` and `identifier`: a later Update
   * or Cancel may name only the message before it, not the Alert that started the chain (whose
   * reference is the alert's own `capRef`).
   */
  capLinks: CapLink[];
  apiTokens: StoredApiToken[];
  seen: ScreenSeen[];
}

/** A CAP message that amended alert `alertId`. */
export interface CapLink {
  readonly sender: string;
  readonly identifier: string;
  readonly alertId: string;
}

/** The collections of documents with ids that the API edits. */
export type CollectionName = 'zones' | 'screens' | 'content' | 'layouts' | 'playlists' | 'schedules' | 'media';

export function emptyData(now = new Date()): Data {
  return {
    meta: { schema: STORE_SCHEMA, createdAt: now.toISOString(), seededDemo: false },
    zones: [],
    screens: [],
    content: [],
    layouts: [],
    playlists: [],
    schedules: [],
    media: [],
    users: [],
    sessions: [],
    loginCounters: [],
    pairings: [],
    audit: { head: null, outbox: [] },
    alerts: [],
    capLinks: [],
    apiTokens: [],
    seen: [],
  };
}

/**
 * The repository interface. Readers get the last durably committed snapshot; `write` runs a
 * mutation against a draft and resolves only after that draft is on disk. A larger deployment
 * puts a real database behind the same interface.
 */
export interface Store {
  /** The committed state; treat it as read-only. */
  read(): Readonly<Data>;
  /**
   * Applies `mutate` to a draft and resolves with its result once the draft is durable. `base`
   * is the state the draft started from: read from it what the mutation only looks at, since the
   * embedded store copies each collection of the draft that is accessed.
   */
  write<T>(mutate: (draft: Data, base: Readonly<Data>) => T): Promise<T>;
  /**
   * Calls `listener` with the committed state after each durable flush; returns an unsubscribe
   * function. Listeners run synchronously and must not throw or block: they schedule work.
   */
  onCommit(listener: (data: Readonly<Data>) => void): () => void;
  close(): Promise<void>;
}

/**
 * Brings a document written by an older version up to date. Version 1 had no owner zone on
 * layouts and schedules (they go to the first city) and published content without review state.
 */
export function migrate(data: Data): Data {
  const meta = data.meta as { schema: number };
  if (meta.schema >= STORE_SCHEMA) return data;
  const root = data.zones.find((z) => z.parentId === null)?.id ?? '';
  const emptyReview = { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null };
  return {
    ...data,
    meta: { ...data.meta, schema: STORE_SCHEMA },
    layouts: data.layouts.map((l) => ({ ...l, zoneId: l.zoneId ?? root })),
    schedules: data.schedules.map((s) => ({ ...s, zoneId: s.zoneId ?? root })),
    content: data.content.map((c) => {
      if ('review' in c && c.review) return c;
      const { status, ...version } = c as typeof c & { status: string };
      const published = status === 'published' ? (version as ContentRecord['published']) : null;
      return { ...version, status: published ? 'published' : 'draft', published, review: emptyReview } as ContentRecord;
    }),
  };
}

/**
 * Delivery boards that a document written before the delivery journal still holds (they moved
 * to `deliveries.jsonl`, see delivery-journal.ts), or null. They stay in the document until the
 * journal has them on disk, and are then released with `releaseLegacyDeliveries`.
 */
export function legacyDeliveries(data: Readonly<Data>): Delivery[] | null {
  const legacy = (data as { deliveries?: unknown }).deliveries;
  return Array.isArray(legacy) ? (legacy as Delivery[]) : null;
}

/** A mutation that drops the legacy `deliveries` from the document. */
export function releaseLegacyDeliveries(draft: Data): void {
  // An undefined value is left out of the JSON, so the key leaves the file with this write.
  (draft as { deliveries?: unknown }).deliveries = undefined;
}

/**
 * A draft of `base` whose top-level collections are deep-copied only when a mutation first
 * touches them, so that recording one acknowledgement does not copy every screen and content
 * item. `materialize` gives the next document: touched collections replaced, the others shared
 * with `base` (committed documents are never mutated, so sharing is safe).
 */
function copyOnAccess(base: Data): { draft: Data; materialize(): Data } {
  const copies = new Map<keyof Data, unknown>();
  const draft = {} as Data;
  for (const key of Object.keys(base) as (keyof Data)[]) {
    Object.defineProperty(draft, key, {
      enumerable: true,
      get() {
        if (!copies.has(key)) copies.set(key, structuredClone(base[key]));
        return copies.get(key);
      },
      set(value: unknown) {
        copies.set(key, value);
      },
    });
  }
  return { draft, materialize: () => ({ ...base, ...(Object.fromEntries(copies) as Partial<Data>) }) };
}

interface Pending {
  mutate: (draft: Data, base: Readonly<Data>) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Opens the lowdb store in `dataDir`. Writes are group-committed: mutations that arrive while a
 * flush is on disk wait and go out together in the next one, each acknowledged only after it.
 */
export async function createStore(dataDir: string): Promise<Store> {
  const file = new DurableJsonFile<Data>(path.join(dataDir, 'zonecast.json'));
  const db = new Low<Data>(file, emptyData());
  await db.read();
  let committed: Data = migrate({ ...emptyData(), ...db.data });
  let closed = false;
  const listeners = new Set<(data: Readonly<Data>) => void>();

  // Writes that arrive while a flush is on disk go out together in the next one.
  const commits = groupCommit<Pending>(async (batch) => {
    let draft = committed;
    const done: { p: Pending; result: unknown }[] = [];
    for (const p of batch) {
      // Each mutation runs on its own copy, so one that throws halfway leaves no trace. The
      // others are never run twice: handlers make ids and timestamps inside the mutation and
      // answer with what it returned, so a replay would store something else than was answered.
      try {
        const next = copyOnAccess(draft);
        const result = p.mutate(next.draft, draft);
        draft = next.materialize();
        done.push({ p, result });
      } catch (err) {
        p.reject(err);
      }
    }
    if (done.length === 0) return;
    try {
      db.data = draft;
      await file.write(draft);
      committed = draft;
      for (const d of done) d.p.resolve(d.result);
      // After the data is durable, never before: a listener (the audit log) may act on it.
      // One listener's failure must not fail a commit that is already on disk.
      for (const l of listeners) {
        try {
          l(committed);
        } catch {
          /* the listener reports its own errors */
        }
      }
    } catch (err) {
      db.data = committed;
      for (const d of done) d.p.reject(new AppError('STORE_WRITE_FAILED', (err as Error).message));
    }
  });

  return {
    read: () => committed,
    write<T>(mutate: (draft: Data, base: Readonly<Data>) => T): Promise<T> {
      if (closed) return Promise.reject(new AppError('STORE_WRITE_FAILED', 'store is closed'));
      return new Promise<T>((resolve, reject) => {
        commits.push({ mutate, resolve: resolve as (v: unknown) => void, reject });
      });
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      closed = true;
      await commits.drain();
    },
  };
}
