import { onBeforeUnmount, watch, type Ref } from 'vue';
import { session } from '../session.js';

/**
 * Unsaved edits kept in the browser (localStorage), per user and per thing edited, so that a
 * session that expires mid-edit, a closed tab or a reload does not lose them. While the session
 * is merely expired the page keeps its form anyway (requests wait for the login dialog and go
 * again); the stored draft covers the page being left or reloaded.
 *
 * A draft is written a moment after each change and removed once the edit is saved or
 * abandoned on purpose.
 */
const PREFIX = 'zonecast.draft.';
const WRITE_DELAY_MS = 400;

interface Stored<T> {
  readonly savedAt: number;
  /** The `updatedAt` of the server's copy the edit started from (null for something new). */
  readonly base: string | null;
  readonly value: T;
}

function storageKey(key: string): string {
  return `${PREFIX}${session.me?.user.id ?? 'anonymous'}.${key}`;
}

/** The stored draft under `key`, or null. */
export function readDraft<T>(key: string): Stored<T> | null {
  try {
    const raw = localStorage.getItem(storageKey(key));
    return raw ? (JSON.parse(raw) as Stored<T>) : null;
  } catch {
    return null;
  }
}

/** Stores `value` as the draft under `key`. */
export function writeDraft<T>(key: string, value: T, base: string | null): void {
  try {
    localStorage.setItem(storageKey(key), JSON.stringify({ savedAt: Date.now(), base, value } satisfies Stored<T>));
  } catch {
    // A full or refused storage: the form itself still holds the edit.
  }
}

/** Forgets the draft under `key`. */
export function clearDraft(key: string): void {
  try {
    localStorage.removeItem(storageKey(key));
  } catch {
    // Nothing stored, or storage refused.
  }
}

/**
 * Keeps `value` as a draft while `key()` names what is edited (null: nothing being edited).
 * `base()` is the server copy's `updatedAt` the edit started from.
 * Returns `take(key)`: the stored draft's value if one exists for `key`, for the page to offer
 * or restore when it opens the editor; and `discard()` to forget the current one after saving.
 */
export function useDraft<T>(key: () => string | null, value: Ref<T>, base: () => string | null = () => null) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let paused = false;
  const stop = watch(
    value,
    () => {
      if (paused) return;
      const k = key();
      if (!k) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        writeDraft(k, value.value, base());
      }, WRITE_DELAY_MS);
    },
    { deep: true },
  );
  const flushNow = () => {
    const k = key();
    if (timer && k) {
      clearTimeout(timer);
      timer = null;
      writeDraft(k, value.value, base());
    }
  };
  window.addEventListener('pagehide', flushNow);
  onBeforeUnmount(() => {
    flushNow();
    stop();
    window.removeEventListener('pagehide', flushNow);
  });
  return {
    /** The stored draft for `k`, if any. */
    take: (k: string): Stored<T> | null => readDraft<T>(k),
    /** Sets the value without writing it back as a draft (loading the server's copy). */
    load(next: T): void {
      paused = true;
      value.value = next;
      // The deep watcher runs after this tick; resume after it.
      void Promise.resolve().then(() => {
        paused = false;
      });
    },
    /** Forgets the draft of what is edited now (after a save, or on purpose). */
    discard(): void {
      if (timer) clearTimeout(timer);
      timer = null;
      const k = key();
      if (k) clearDraft(k);
    },
  };
}
