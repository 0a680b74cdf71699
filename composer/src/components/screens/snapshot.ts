import type { Manifest } from '../../../../content/index.js';

/**
 * Still thumbnails of what screens show, drawn by the player's renderer and kept as images.
 *
 * Each live renderer holds a WebGL context and Chromium allows 16 per page, so a list of
 * screens never keeps one per row: one renderer at a time draws a manifest at a few hundred
 * pixels wide, the canvas becomes a PNG data URL, and the renderer is destroyed before the next.
 */

const cache = new Map<string, string>();
let queue: Promise<unknown> = Promise.resolve();
const DRAW_TIMEOUT_MS = 20_000;

/** The renderer library, loaded on first use (pixi and the bundled font are large). */
async function importLib() {
  const [engine, pixi] = await Promise.all([import('../../../../player/src/renderer/index.js'), import('pixi.js')]);
  return { ZoneCastRenderer: engine.ZoneCastRenderer, UPDATE_PRIORITY: pixi.UPDATE_PRIORITY };
}
let libPromise: ReturnType<typeof importLib> | null = null;

async function draw(m: Manifest, widthPx: number, at: number): Promise<string> {
  const lib = await (libPromise ??= importLib());
  const canvas = document.createElement('canvas');
  const r = await lib.ZoneCastRenderer.create({ canvas, width: m.screen.width, height: m.screen.height, now: () => at });
  try {
    await r.setManifest(m, { immediate: true });
    r.app.renderer.resize(m.screen.width, m.screen.height, Math.min(1, widthPx / m.screen.width));
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), DRAW_TIMEOUT_MS);
      // UTILITY runs after pixi's render in the same frame, so the canvas holds that frame.
      const check = (): void => {
        if (r.state().manifestVersion === m.version) {
          clearTimeout(timer);
          resolve(canvas.toDataURL('image/png'));
        } else r.app.ticker.addOnce(check, undefined, lib.UPDATE_PRIORITY.UTILITY);
      };
      r.app.ticker.addOnce(check, undefined, lib.UPDATE_PRIORITY.UTILITY);
    });
  } finally {
    r.destroy();
  }
}

/**
 * A PNG data URL of `m` as the screen shows it at `at` (default now), `widthPx` wide; the same
 * manifest version and width come from a cache. Draws one at a time.
 */
export function snapshot(m: Manifest, widthPx: number, at = Date.now()): Promise<string> {
  const key = `${m.version}@${widthPx}`;
  const known = cache.get(key);
  if (known) return Promise.resolve(known);
  const next = queue.then(async () => {
    const again = cache.get(key);
    if (again) return again;
    const url = await draw(m, widthPx, at);
    // Keep the cache small: thumbnails of old versions are not shown again.
    if (cache.size > 200) cache.delete(cache.keys().next().value ?? '');
    cache.set(key, url);
    return url;
  });
  queue = next.catch(() => undefined);
  return next;
}

/** Forgets every thumbnail (the user asked for fresh ones). */
export function forgetSnapshots(): void {
  cache.clear();
}
