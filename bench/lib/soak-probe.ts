import type { Page } from 'playwright-core';

/** What the in-page probe has counted so far. */
export interface ProbeSnapshot {
  /** Frames the probe has seen (one per animation frame, like the player's ticker). */
  readonly frames: number;
  /** Item changes: a region's (itemId, slotStart) differing from the previous frame's. */
  readonly changes: number;
  readonly changesByRegion: Readonly<Record<string, number>>;
  /** WebGL textures created and not yet deleted, over every context of the page. */
  readonly glLive: number;
  readonly glCreated: number;
  readonly glDeleted: number;
}

/** Texture counts over a window of frames. */
export interface ProbeWindow {
  readonly frames: number;
  /** `state().textures`, the textures the player's TextureStore holds: fewest and most seen. */
  readonly storeMin: number;
  readonly storeMax: number;
  /** Live WebGL textures: fewest and most seen. */
  readonly glMin: number;
  readonly glMax: number;
}

/**
 * Installed before the player's own scripts. It counts live WebGL textures by wrapping
 * createTexture/deleteTexture, and on every animation frame reads `window.zonecast.state()` to
 * count item changes (so that a slot shorter than the bench's polling interval is not missed) and,
 * while a window is open, the fewest and most textures seen. It is plain JavaScript in a string
 * because tsx wraps the functions it compiles in a `__name` helper that the page does not have.
 */
export function probeScript(): string {
  return `(() => {
  const live = new WeakSet();
  const p = { frames: 0, changes: 0, changesByRegion: {}, glLive: 0, glCreated: 0, glDeleted: 0, last: {}, win: null };
  for (const name of ['WebGLRenderingContext', 'WebGL2RenderingContext']) {
    const C = globalThis[name];
    if (!C) continue;
    const create = C.prototype.createTexture;
    const remove = C.prototype.deleteTexture;
    C.prototype.createTexture = function () {
      const t = create.call(this);
      if (t) { live.add(t); p.glLive++; p.glCreated++; }
      return t;
    };
    C.prototype.deleteTexture = function (t) {
      if (t && live.has(t)) { live.delete(t); p.glLive--; p.glDeleted++; }
      return remove.call(this, t);
    };
  }
  const tick = () => {
    requestAnimationFrame(tick);
    p.frames++;
    const zc = globalThis.zonecast;
    const s = zc ? zc.state() : null;
    if (!s || !s.regions) return;
    for (const id of Object.keys(s.regions)) {
      const r = s.regions[id];
      if (!r || r.itemId === null || r.slotStart === null) continue;
      const key = r.itemId + '@' + r.slotStart;
      const prev = p.last[id];
      if (prev !== undefined && prev !== key) {
        p.changes++;
        p.changesByRegion[id] = (p.changesByRegion[id] || 0) + 1;
      }
      p.last[id] = key;
    }
    const w = p.win;
    if (!w) return;
    const held = s.textures || 0;
    w.frames++;
    w.storeMin = Math.min(w.storeMin, held);
    w.storeMax = Math.max(w.storeMax, held);
    w.glMin = Math.min(w.glMin, p.glLive);
    w.glMax = Math.max(w.glMax, p.glLive);
  };
  requestAnimationFrame(tick);
  globalThis.__zonecastSoak = {
    snapshot: () => ({ frames: p.frames, changes: p.changes, changesByRegion: { ...p.changesByRegion }, glLive: p.glLive, glCreated: p.glCreated, glDeleted: p.glDeleted }),
    open: () => { p.win = { frames: 0, storeMin: Infinity, storeMax: 0, glMin: Infinity, glMax: 0 }; },
    close: () => {
      const w = p.win;
      p.win = null;
      return w && w.frames > 0 ? w : null;
    },
  };
})();`;
}

interface ProbeHandle {
  snapshot(): ProbeSnapshot;
  open(): void;
  close(): ProbeWindow | null;
}

/** Installs the probe in every document the page loads from now on. */
export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript({ content: probeScript() });
}

/** The probe's counters. */
export function probeSnapshot(page: Page): Promise<ProbeSnapshot> {
  return page.evaluate(() => (globalThis as unknown as { __zonecastSoak: ProbeHandle }).__zonecastSoak.snapshot());
}

/** Starts collecting the fewest and most textures seen. */
export async function openWindow(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { __zonecastSoak: ProbeHandle }).__zonecastSoak.open());
}

/** Stops collecting and returns what the window saw. */
export async function closeWindow(page: Page): Promise<ProbeWindow> {
  const w = await page.evaluate(() => (globalThis as unknown as { __zonecastSoak: ProbeHandle }).__zonecastSoak.close());
  if (!w) throw new Error('the probe window saw no frame');
  return w;
}
