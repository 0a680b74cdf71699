import { Assets, type Texture } from 'pixi.js';

/**
 * The page's textures by URL, counted across every renderer on the page. pixi's Assets cache is
 * one per page, so two renderers drawing the same picture (the composer's live preview and a
 * thumbnail being drawn beside it) hold the same Texture: only the last release on the page may
 * unload it, or the other renderer draws a destroyed texture and pixi throws at its next batch
 * ("Cannot read properties of null (reading 'alphaMode')").
 */
const pageRefs = new Map<string, number>();
const pageLoading = new Map<string, Promise<Texture>>();
/** Unloads under way. A new load of the same URL waits for its unload, or pixi would hand back the texture being destroyed. */
const pageUnloading = new Map<string, Promise<void>>();

function acquireShared(src: string): Promise<Texture> {
  pageRefs.set(src, (pageRefs.get(src) ?? 0) + 1);
  let p = pageLoading.get(src);
  if (!p) {
    const prior = pageUnloading.get(src) ?? Promise.resolve();
    p = prior.then(() => Assets.load<Texture>(src));
    pageLoading.set(src, p);
  }
  return p;
}

function releaseShared(src: string): void {
  const n = (pageRefs.get(src) ?? 0) - 1;
  if (n > 0) {
    pageRefs.set(src, n);
    return;
  }
  pageRefs.delete(src);
  const p = pageLoading.get(src);
  pageLoading.delete(src);
  if (!p) return;
  const done: Promise<void> = p
    .then(() => Assets.unload(src))
    .catch(() => undefined)
    .finally(() => {
      if (pageUnloading.get(src) === done) pageUnloading.delete(src);
    });
  pageUnloading.set(src, done);
}

/**
 * One renderer's textures, reference-counted by URL on top of the page's count. A player runs for
 * months, so a texture is unloaded as soon as the last item using it anywhere on the page leaves
 * the screen.
 */
export class TextureStore {
  private readonly refs = new Map<string, number>();
  private disposed = false;

  constructor(private readonly resolveUrl: (url: string) => string = (u) => u) {}

  /** Loads (or shares) the texture at `url`; call `release` once per `acquire`. Rejects once the store is disposed. */
  acquire(url: string): Promise<Texture> {
    if (this.disposed) return Promise.reject(new Error('texture store disposed'));
    const src = this.resolveUrl(url);
    this.refs.set(src, (this.refs.get(src) ?? 0) + 1);
    return acquireShared(src);
  }

  /** Gives back one `acquire`; a release this store does not owe (after `dispose`) does nothing. */
  release(url: string): void {
    const src = this.resolveUrl(url);
    const n = this.refs.get(src);
    if (n === undefined) return;
    if (n > 1) this.refs.set(src, n - 1);
    else this.refs.delete(src);
    releaseShared(src);
  }

  /** Gives back everything still held (the renderer is gone); later acquires reject. */
  dispose(): void {
    this.disposed = true;
    for (const [src, n] of this.refs) for (let i = 0; i < n; i++) releaseShared(src);
    this.refs.clear();
  }

  /** Textures currently held. */
  get count(): number {
    return this.refs.size;
  }
}
