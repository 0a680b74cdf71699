import { Container, Graphics, Sprite, Text, Texture, VideoSource, detectVideoAlphaMode } from 'pixi.js';
import { findAsset, type ContentOf, type RegionShowing } from '../../../../content/index.js';
import { FONT_FAMILY } from '../fonts.js';
import { ellipsize } from '../text.js';
import { COLORS } from '../theme.js';
import type { ItemView, ViewContext } from './view.js';

/** Scales a w×h picture to contain or cover a box, in whole pixels, centred. */
export function fitRect(w: number, h: number, boxW: number, boxH: number, fit: 'contain' | 'cover') {
  const s = fit === 'contain' ? Math.min(boxW / w, boxH / h) : Math.max(boxW / w, boxH / h);
  const width = Math.round(w * s);
  const height = Math.round(h * s);
  return { x: Math.round((boxW - width) / 2), y: Math.round((boxH - height) / 2), width, height };
}

/** An image (or a service map with its markers), from the rendition fitted to this region. */
export class PictureView implements ItemView {
  readonly container = new Container();
  readonly pages = 1;
  readonly page = 0;
  private readonly url: string | null;
  private destroyed = false;

  constructor(
    item: ContentOf<'image'> | ContentOf<'service-map'>,
    private readonly ctx: ViewContext,
  ) {
    const captionText = item.kind === 'image' ? item.caption : item.caption || item.title;
    const captionH = captionText ? Math.round(ctx.type.small * 1.8) : 0;
    const boxH = ctx.height - captionH;
    const asset = item.mediaHash ? findAsset(ctx.manifest.assets, item.mediaHash, ctx.width, ctx.height) : undefined;
    this.url = asset?.url ?? null;
    const fit = item.kind === 'image' ? item.fit : 'contain';
    if (this.url) {
      const url = this.url;
      // Destroyed while loading: nothing is drawn, and destroy() has given the texture back.
      ctx.textures.acquire(url).then((texture) => {
        if (this.destroyed || texture.destroyed) return;
        const sprite = new Sprite(texture);
        const r = fitRect(texture.width, texture.height, ctx.width, boxH, fit);
        sprite.position.set(r.x, r.y);
        sprite.setSize(r.width, r.height);
        const mask = new Graphics().rect(0, 0, ctx.width, boxH).fill(0xffffff);
        sprite.mask = mask;
        this.container.addChildAt(mask, 0);
        this.container.addChildAt(sprite, 0);
        if (item.kind === 'service-map') this.drawMarkers(item, r);
      }, () => undefined);
    }
    if (captionText) {
      const bar = new Graphics().rect(0, boxH, ctx.width, captionH).fill(COLORS.panel);
      const caption = new Text({
        text: ellipsize(captionText, ctx.width - 2 * ctx.type.padding, ctx.type.small),
        style: { fontFamily: FONT_FAMILY, fontSize: ctx.type.small, fill: COLORS.text },
      });
      caption.position.set(ctx.type.padding, boxH + Math.round((captionH - caption.height) / 2));
      this.container.addChild(bar, caption);
    }
  }

  private drawMarkers(item: ContentOf<'service-map'>, r: { x: number; y: number; width: number; height: number }): void {
    const px = this.ctx.type.small;
    for (const m of item.markers) {
      const x = Math.round(r.x + m.x * r.width);
      const y = Math.round(r.y + m.y * r.height);
      const dot = new Graphics().circle(x, y, Math.max(4, Math.round(px / 3))).fill(COLORS.alert).stroke({ width: 2, color: 0xffffff });
      const label = new Text({ text: m.name, style: { fontFamily: FONT_FAMILY, fontSize: px, fill: 0x10233f, fontWeight: '700', stroke: { color: 0xffffff, width: 4 } } });
      label.position.set(x + Math.round(px / 2), y - Math.round(label.height / 2));
      this.container.addChild(dot, label);
    }
  }

  update(_now: number, _slot: RegionShowing): void {}

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.url) this.ctx.textures.release(this.url);
    this.container.destroy({ children: true, context: true });
  }
}

/** A muted, looping video from its original file. */
export class VideoView implements ItemView {
  readonly container = new Container();
  readonly pages = 1;
  readonly page = 0;
  private readonly video: HTMLVideoElement | null = null;
  private readonly texture: Texture | null = null;
  private readonly place: () => void = () => undefined;
  /** Settles once pixi's VideoSource.load() is past its wait for the video alpha mode. */
  private loadWaited: Promise<void> = Promise.resolve();
  private destroyed = false;

  constructor(item: ContentOf<'video'>, ctx: ViewContext) {
    const asset = findAsset(ctx.manifest.assets, item.mediaHash, ctx.width, ctx.height);
    if (!asset) return;
    const video = document.createElement('video');
    video.muted = true;
    video.loop = true;
    video.playsInline = true;
    video.crossOrigin = 'anonymous';
    video.src = asset.url;
    this.video = video;
    const source = new VideoSource({ resource: video, autoPlay: true, loop: true, muted: true });
    // The source's constructor starts load(), which awaits detectVideoAlphaMode() (slow the first
    // time in a page) and then reads its video: a source destroyed before that throws on the null
    // resource ('videoWidth'). A wait on the same answer queued now runs right after load()'s own.
    this.loadWaited = detectVideoAlphaMode().then(
      () => undefined,
      () => undefined,
    );
    this.texture = new Texture({ source });
    const sprite = new Sprite(this.texture);
    this.place = () => {
      const r = fitRect(video.videoWidth || 16, video.videoHeight || 9, ctx.width, ctx.height, 'contain');
      sprite.position.set(r.x, r.y);
      sprite.setSize(r.width, r.height);
    };
    video.addEventListener('loadedmetadata', this.place);
    this.place();
    this.container.addChild(sprite);
    void video.play().catch(() => undefined);
  }

  update(_now: number, _slot: RegionShowing): void {}

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.video) {
      this.video.removeEventListener('loadedmetadata', this.place);
      // No load() here: it would fire media events at pixi's video source after it is destroyed.
      this.video.pause();
      this.video.removeAttribute('src');
    }
    this.container.destroy({ children: true, context: true });
    // The sprite is gone, so nothing draws the texture meanwhile.
    const texture = this.texture;
    if (texture) void this.loadWaited.then(() => texture.destroy(true));
  }
}
