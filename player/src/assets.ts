import { mediaHashesOf, type Manifest, type ManifestAsset } from '../../content/index.js';
import { MEDIA_CACHE } from './cache-names.js';

/** Retry timing for one asset: exponential backoff with full jitter, capped. */
export const RETRY = { baseMs: 1000, maxMs: 30_000 } as const;

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Downloads one asset and checks it against its SHA-256; throws on any mismatch or error. */
async function fetchVerified(asset: ManifestAsset): Promise<Response> {
  const res = await fetch(asset.url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.arrayBuffer();
  const digest = hex(await crypto.subtle.digest('SHA-256', body));
  if (digest !== asset.sha256) throw new Error(`SHA-256 mismatch: got ${digest.slice(0, 12)}…, want ${asset.sha256.slice(0, 12)}…`);
  return new Response(body, { headers: { 'content-type': asset.mime, 'content-length': String(body.byteLength), 'x-zonecast-sha256': digest } });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The outcome of preparing a manifest's assets. */
export interface PrefetchResult {
  /** URLs that could not be fetched and verified before the deadline. */
  readonly failed: Map<string, string>;
}

/**
 * Puts every asset of a manifest into the Cache API, verified by SHA-256, retrying each with
 * backoff and jitter until `deadline` (epoch ms of the local clock). Assets already cached were
 * verified when they were put there.
 */
export async function prefetchAssets(assets: readonly ManifestAsset[], deadline: number, signal?: AbortSignal): Promise<PrefetchResult> {
  const cache = await caches.open(MEDIA_CACHE);
  const failed = new Map<string, string>();
  await Promise.all(
    assets.map(async (asset) => {
      if (await cache.match(asset.url)) return;
      for (let attempt = 0; ; attempt++) {
        try {
          await cache.put(asset.url, await fetchVerified(asset));
          return;
        } catch (err) {
          const wait = Math.random() * Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** attempt);
          if (signal?.aborted || Date.now() + wait >= deadline) {
            failed.set(asset.url, (err as Error).message);
            return;
          }
          await sleep(wait, signal);
        }
      }
    }),
  );
  return { failed };
}

/** The manifest without the items whose assets failed, so that the rest can play. */
export function withoutFailedItems(m: Manifest, failedUrls: ReadonlySet<string>): Manifest {
  if (failedUrls.size === 0) return m;
  const badHashes = new Set(m.assets.filter((a) => failedUrls.has(a.url)).map((a) => a.mediaHash));
  const dropped = new Set(Object.values(m.items).filter((item) => mediaHashesOf(item).some((h) => badHashes.has(h))).map((i) => i.id));
  const items = Object.fromEntries(Object.entries(m.items).filter(([id]) => !dropped.has(id)));
  const layout = m.layout && {
    ...m.layout,
    regions: m.layout.regions.map((r) => ({ ...r, candidates: r.candidates.filter((c) => !dropped.has(c.itemId)) })),
  };
  return { ...m, items, layout, assets: m.assets.filter((a) => !failedUrls.has(a.url)), version: `${m.version}~partial` };
}

/** Deletes cached media that no kept manifest needs. */
export async function pruneAssets(keep: readonly Manifest[]): Promise<number> {
  const cache = await caches.open(MEDIA_CACHE);
  const wanted = new Set(keep.flatMap((m) => m.assets.map((a) => new URL(a.url, location.href).href)));
  let removed = 0;
  for (const req of await cache.keys()) {
    if (!wanted.has(req.url)) {
      await cache.delete(req);
      removed++;
    }
  }
  return removed;
}

/** Asks the browser not to evict the player's storage under pressure. */
export async function askPersistentStorage(): Promise<boolean> {
  try {
    return (await navigator.storage?.persisted?.()) || ((await navigator.storage?.persist?.()) ?? false);
  } catch {
    return false;
  }
}
