import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * pixi's Assets cache is one per page, so the stores of two renderers on a page share its
 * textures. Assets is replaced here by a fake that hands every loader of a URL the same object
 * and destroys it on unload, as pixi does.
 */
interface FakeTexture {
  readonly url: string;
  destroyed: boolean;
}
const cache = new Map<string, FakeTexture>();
const loads: string[] = [];
const unloads: string[] = [];

vi.mock('pixi.js', () => ({
  Assets: {
    load: async (url: string) => {
      loads.push(url);
      let t = cache.get(url);
      if (!t) cache.set(url, (t = { url, destroyed: false }));
      return t;
    },
    unload: async (url: string) => {
      unloads.push(url);
      // pixi awaits its loader before it drops the cached entry and destroys the texture.
      await Promise.resolve();
      await Promise.resolve();
      const t = cache.get(url);
      cache.delete(url);
      if (t) t.destroyed = true;
    },
  },
}));

const { TextureStore } = await import('../../player/src/renderer/textures.js');

/** Lets every queued load and unload finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  cache.clear();
  loads.length = 0;
  unloads.length = 0;
});

describe('textures shared by the renderers of a page', () => {
  it('keeps a picture another renderer still draws when one renderer lets it go', async () => {
    const preview = new TextureStore();
    const thumbnail = new TextureStore();
    const shown = await preview.acquire('/media/a/1.webp');
    const drawn = await thumbnail.acquire('/media/a/1.webp');
    expect(drawn).toBe(shown);
    thumbnail.release('/media/a/1.webp');
    await settle();
    expect(shown.destroyed).toBe(false);
    expect(unloads).toEqual([]);
    preview.release('/media/a/1.webp');
    await settle();
    expect(shown.destroyed).toBe(true);
    expect(unloads).toEqual(['/media/a/1.webp']);
  });

  it('gives back what a destroyed renderer still held, once, and ignores releases after that', async () => {
    const preview = new TextureStore();
    const thumbnail = new TextureStore();
    const shown = await preview.acquire('/media/a/1.webp');
    await thumbnail.acquire('/media/a/1.webp');
    await thumbnail.acquire('/media/a/1.webp');
    expect(thumbnail.count).toBe(1);
    thumbnail.dispose();
    thumbnail.release('/media/a/1.webp');
    thumbnail.release('/media/a/1.webp');
    await settle();
    expect(thumbnail.count).toBe(0);
    expect(shown.destroyed).toBe(false);
    await expect(thumbnail.acquire('/media/a/1.webp')).rejects.toThrow();
    preview.release('/media/a/1.webp');
    await settle();
    expect(shown.destroyed).toBe(true);
  });

  it('loads a picture afresh, not the one being unloaded, when it is wanted again meanwhile', async () => {
    const first = new TextureStore();
    const second = new TextureStore();
    const old = await first.acquire('/media/a/1.webp');
    first.release('/media/a/1.webp');
    const again = await second.acquire('/media/a/1.webp');
    expect(old.destroyed).toBe(true);
    expect(again).not.toBe(old);
    expect(again.destroyed).toBe(false);
    expect(loads).toHaveLength(2);
  });
});
