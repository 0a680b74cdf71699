import { Container, Graphics, Sprite } from 'pixi.js';
import { findAsset, type ContentOf, type RegionShowing } from '../../../../content/index.js';
import { fitRect } from './media.js';
import { noticePictureBox } from './notice-box.js';
import { PagedTextView, type TextDoc } from './paged-text.js';
import type { ItemView, ViewContext } from './view.js';

/**
 * A notice with its picture: the text paginated in its part of the region (never below the
 * legible size), the picture fitted whole in the rest. The picture is the rendition made for
 * the region's box; its texture is released when the notice leaves the screen.
 */
export class NoticeView implements ItemView {
  readonly container = new Container();
  private readonly text: PagedTextView;
  private readonly url: string | null;
  private destroyed = false;

  constructor(item: ContentOf<'notice'> & { mediaHash: string }, doc: TextDoc, private readonly ctx: ViewContext) {
    const box = noticePictureBox(ctx.width, ctx.height, ctx.type.padding);
    this.text = new PagedTextView(doc, { ...ctx, ...box.text });
    this.container.addChild(this.text.container);
    const asset = findAsset(ctx.manifest.assets, item.mediaHash, ctx.width, ctx.height);
    this.url = asset?.url ?? null;
    if (!this.url) return;
    const url = this.url;
    const frame = new Container();
    frame.position.set(box.picture.x, box.picture.y);
    this.container.addChild(frame);
    void ctx.textures
      .acquire(url)
      .then((texture) => {
        if (this.destroyed) return;
        const sprite = new Sprite(texture);
        const r = fitRect(texture.width, texture.height, box.picture.width, box.picture.height, 'contain');
        sprite.position.set(r.x, r.y);
        sprite.setSize(r.width, r.height);
        const mask = new Graphics().rect(0, 0, box.picture.width, box.picture.height).fill(0xffffff);
        sprite.mask = mask;
        frame.addChild(mask, sprite);
      })
      .catch(() => undefined);
  }

  get pages(): number {
    return this.text.pages;
  }

  get page(): number {
    return this.text.page;
  }

  update(now: number, slot: RegionShowing): void {
    this.text.update(now, slot);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.url) this.ctx.textures.release(this.url);
    // The text view frees its own textures; the sprite shares the store's texture, which the release above unloads.
    this.container.removeChild(this.text.container);
    this.text.destroy();
    this.container.destroy({ children: true, context: true });
  }
}
