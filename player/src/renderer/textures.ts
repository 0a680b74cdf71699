import { Assets, type Texture } from 'pixi.js';

/**
 * Reference-counted textures by URL. A player runs for months, so a texture is unloaded as soon
 * as the last item using it leaves the screen.
 */
export class TextureStore {
  private readonly refs = new Map<string, number>();
  private readonly loading = new Map<string, Promise<Texture>>();
  /** Unloads under way. A new load of the same URL waits for its unload, or pixi would hand back the texture being destroyed. */
  private readonly unloading = new Map<string, Promise<void>>();

  constructor(private readonly resolveUrl: (url: string) => string = (u) => u) {}

  /** Loads (or shares) the texture at `url`; call `release` once per `acquire`. */
  acquire(url: string): Promise<Texture> {
    const src = this.resolveUrl(url);
    this.refs.set(src, (this.refs.get(src) ?? 0) + 1);
    let p = this.loading.get(src);
    if (!p) {
      const prior = this.unloading.get(src) ?? Promise.resolve();
      p = prior.then(() => Assets.load<Texture>(src));
      this.loading.set(src, p);
    }
    return p;
  }

  release(url: string): void {
    const src = this.resolveUrl(url);
    const n = (this.refs.get(src) ?? 0) - 1;
    if (n > 0) {
      this.refs.set(src, n);
      return;
    }
    this.refs.delete(src);
    const p = this.loading.get(src);
    this.loading.delete(src);
    if (!p) return;
    const done: Promise<void> = p
      .then(() => Assets.unload(src))
      .catch(() => undefined)
      .finally(() => {
        if (this.unloading.get(src) === done) this.unloading.delete(src);
      });
    this.unloading.set(src, done);
  }

  /** Textures currently held. */
  get count(): number {
    return this.refs.size;
  }
}
