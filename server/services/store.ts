import path from 'node:path';
import { Low } from 'lowdb';
import type { ContentItem, Layout, Media, Playlist, Schedule, Screen, Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { DurableJsonFile } from './durable-file.js';

/** A screen as stored: the device token is kept only as its SHA-256. */
export type StoredScreen = Screen & { tokenHash: string };

/** The whole embedded document. */
export interface Data {
  meta: { schema: 1; createdAt: string; seededDemo: boolean };
  zones: Zone[];
  screens: StoredScreen[];
  content: ContentItem[];
  layouts: Layout[];
  playlists: Playlist[];
  schedules: Schedule[];
  media: Media[];
}

export type CollectionName = Exclude<keyof Data, 'meta'>;

export function emptyData(now = new Date()): Data {
  return {
    meta: { schema: 1, createdAt: now.toISOString(), seededDemo: false },
    zones: [],
    screens: [],
    content: [],
    layouts: [],
    playlists: [],
    schedules: [],
    media: [],
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
  /** Applies `mutate` to a draft and resolves with its result once the draft is durable. */
  write<T>(mutate: (draft: Data) => T): Promise<T>;
  close(): Promise<void>;
}

interface Pending {
  mutate: (draft: Data) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Opens the lowdb store in `dataDir`. Writes are group-committed: mutations that arrive while a
 * flush is on disk wait and go out together in the next one, each acknowledged only after it.
 */
export async function createStore(dataDir: string): Promise<Store> {
  const db = new Low<Data>(new DurableJsonFile<Data>(path.join(dataDir, 'zonecast.json')), emptyData());
  await db.read();
  let committed: Data = { ...emptyData(), ...db.data };
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let closed = false;

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      let draft = committed;
      const done: { p: Pending; result: unknown }[] = [];
      for (const p of batch) {
        // Each mutation runs on its own copy, so one that throws halfway leaves no trace. The
        // others are never run twice: handlers make ids and timestamps inside the mutation and
        // answer with what it returned, so a replay would store something else than was answered.
        try {
          const next = structuredClone(draft);
          const result = p.mutate(next);
          draft = next;
          done.push({ p, result });
        } catch (err) {
          p.reject(err);
        }
      }
      if (done.length === 0) continue;
      try {
        db.data = draft;
        await db.write();
        committed = draft;
        for (const d of done) d.p.resolve(d.result);
      } catch (err) {
        db.data = committed;
        for (const d of done) d.p.reject(new AppError('STORE_WRITE_FAILED', (err as Error).message));
      }
    }
  }

  function kick(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = null;
      if (queue.length > 0) kick();
    });
  }

  return {
    read: () => committed,
    write<T>(mutate: (draft: Data) => T): Promise<T> {
      if (closed) return Promise.reject(new AppError('STORE_WRITE_FAILED', 'store is closed'));
      return new Promise<T>((resolve, reject) => {
        queue.push({ mutate, resolve: resolve as (v: unknown) => void, reject });
        kick();
      });
    },
    async close() {
      closed = true;
      while (flushing) await flushing;
    },
  };
}
