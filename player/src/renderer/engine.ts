import 'pixi.js/unsafe-eval';
import { Application, Container, Graphics, RendererType, Text, UPDATE_PRIORITY } from 'pixi.js';
import { localTime, regionShowing, screenOpen, type Manifest } from '../../../content/index.js';
import { clockText } from './clock.js';
import { FONT_FAMILY, loadGlyphs } from './fonts.js';
import { createPattern, type PatternKind } from './pattern.js';
import { RegionView } from './region.js';
import { TextureStore } from './textures.js';
import { COLORS } from './theme.js';

import type { RendererName, RendererState } from '../state.js';

export type { RendererName, RendererState };

export interface RendererOptions {
  readonly canvas: HTMLCanvasElement;
  /** The screen's pixel size; one canvas pixel is one device pixel. */
  readonly width: number;
  readonly height: number;
  /** The server-corrected clock (epoch ms). */
  readonly now: () => number;
  readonly preference?: readonly ('webgl' | 'canvas')[];
  /** Maps manifest URLs (server-relative) to fetchable ones, e.g. for a preview on another origin. */
  readonly resolveUrl?: (url: string) => string;
  /** Called when a manifest has taken over the screen. */
  readonly onSwap?: (m: Manifest) => void;
}


/** Every string an item may draw, so that the font subsets are in before any layout. */
function manifestText(m: Manifest): string {
  const chars = new Set<string>('0123456789年月日星期一二三四五六日剩余天今日截止公示期至联系政策原文解读办理流程所需材料时限收费标准地点咨询电话部门间/:·…【】()');
  const add = (s: unknown): void => {
    if (typeof s === 'string') for (const c of s) chars.add(c);
    else if (Array.isArray(s)) s.forEach(add);
    else if (s && typeof s === 'object') Object.values(s).forEach(add);
  };
  add(m.items);
  add(m.screen.name);
  return [...chars].join('');
}

/**
 * The player's engine, also used by the composer for previews: it owns the pixi Application,
 * draws each region of the current manifest at the screen's exact size, and swaps in a new
 * manifest at the next item boundary once its fonts and textures are ready.
 */
export class ZoneCastRenderer {
  private manifest: Manifest | null = null;
  private pending: { manifest: Manifest; swapAt: number } | null = null;
  private regions: RegionView[] = [];
  private readonly root = new Container();
  private readonly idle = new Container();
  private idleText: Text | null = null;
  private readonly textures: TextureStore;
  private lastIdle = '';
  private firstFrameMs: number | null = null;
  private pattern: { kind: PatternKind; view: Container } | null = null;
  /** Set by destroy(): awaited work that finishes later (glyphs, textures) must not touch the app. */
  private destroyed = false;
  /** Read once: after destroy() the app's renderer is gone, and state() still answers. */
  readonly rendererName: RendererName;

  private constructor(
    readonly app: Application,
    private readonly opts: RendererOptions,
  ) {
    this.textures = new TextureStore(opts.resolveUrl);
    this.rendererName = app.renderer.type === RendererType.WEBGL ? 'webgl' : app.renderer.type === RendererType.WEBGPU ? 'webgpu' : 'canvas';
    // pixi 8.22 sets a text texture's entry in CanvasTextSystem._activeTextures to null when the
    // last Text using it goes, but never deletes the key (the text plus its style's id, so one
    // per Text ever drawn, a clock's every second): let pixi's GC sweep it like its own hashes.
    app.renderer.gc.addCollection(app.renderer.canvasText, '_activeTextures', 'hash');
    app.stage.addChild(this.root, this.idle);
    app.ticker.add(() => this.frame());
  }

  /** Creates the renderer: WebGL first, pixi's canvas renderer as the fallback. */
  static async create(opts: RendererOptions): Promise<ZoneCastRenderer> {
    const app = new Application();
    await app.init({
      canvas: opts.canvas,
      width: opts.width,
      height: opts.height,
      resolution: 1,
      autoDensity: false,
      antialias: false,
      background: '#000000',
      preference: [...(opts.preference ?? ['webgl', 'canvas'])] as ('webgl' | 'canvas')[],
      preserveDrawingBuffer: true,
      powerPreference: 'low-power',
    });
    return new ZoneCastRenderer(app, opts);
  }

  /**
   * Accepts a new manifest. Its glyphs and textures load first; it then takes over at the next
   * item boundary of the current one (at once when nothing is showing, or when `immediate`).
   */
  async setManifest(m: Manifest, opts: { readonly immediate?: boolean } = {}): Promise<void> {
    if (this.destroyed || this.manifest?.version === m.version || this.pending?.manifest.version === m.version) return;
    await loadGlyphs(manifestText(m));
    if (this.destroyed) return;
    const now = this.opts.now();
    // A preview follows its editor at once; a screen waits so that no item is cut short.
    this.pending = { manifest: m, swapAt: opts.immediate ? now : this.nextBoundary(now) };
  }

  /** The earliest instant at which some region of the current manifest changes item. */
  nextBoundary(now = this.opts.now()): number {
    if (!this.manifest) return now;
    let at = Infinity;
    for (const r of this.regions) {
      const s = r.state();
      if (r.region.widget) continue;
      const showing = regionShowing(r.region, now, this.manifest.timeZone);
      if (showing && s.itemId !== null) at = Math.min(at, showing.slotEnd);
    }
    return Number.isFinite(at) ? at : now;
  }

  private swap(m: Manifest): void {
    for (const r of this.regions) r.destroy();
    this.regions = [];
    this.manifest = m;
    this.opts.onSwap?.(m);
    this.app.renderer.background.color = m.layout?.background ?? '#000000';
    if (this.app.renderer.width !== m.screen.width || this.app.renderer.height !== m.screen.height) {
      this.app.renderer.resize(m.screen.width, m.screen.height);
      if (this.pattern) this.showPattern(this.pattern.kind);
    }
    for (const region of m.layout?.regions ?? []) {
      const view = new RegionView(region, m, this.textures);
      this.regions.push(view);
      this.root.addChild(view.container);
    }
  }

  /**
   * Draws a calibration pattern over the whole screen instead of content (`null`: content again).
   * Manifests keep arriving and swapping underneath, so the pattern follows a change of size.
   * Once the pattern is on the canvas, the canvas carries `data-pattern="<kind>"`.
   */
  showPattern(kind: PatternKind | null): void {
    if (this.destroyed) return;
    const canvas = this.opts.canvas;
    delete canvas.dataset.pattern;
    this.pattern?.view.destroy({ children: true, texture: true, textureSource: true });
    this.pattern = null;
    this.root.visible = !kind;
    this.idle.visible = false;
    if (!kind) return;
    const view = createPattern(kind, this.app.renderer.width, this.app.renderer.height);
    this.app.stage.addChild(view);
    const shown = { kind, view };
    this.pattern = shown;
    // After this frame's render (LOW priority), so the attribute means "drawn", not "asked for".
    this.app.ticker.addOnce(() => {
      if (this.pattern === shown) canvas.dataset.pattern = kind;
    }, null, UPDATE_PRIORITY.UTILITY);
  }

  private frame(): void {
    if (this.destroyed) return;
    const now = this.opts.now();
    if (this.pending && now >= this.pending.swapAt) {
      const { manifest } = this.pending;
      this.pending = null;
      this.swap(manifest);
    }
    const m = this.manifest;
    if (!m || this.pattern) return;
    const lt = localTime(now, m.timeZone);
    const open = screenOpen(m, now, lt);
    this.root.visible = open;
    this.idle.visible = !open;
    if (!open) {
      this.drawIdle(now, m);
      return;
    }
    for (const r of this.regions) r.update(now, r.region.widget ? null : regionShowing(r.region, now, m.timeZone, lt));
    if (this.firstFrameMs === null) {
      // The first frame with content: what cold-start benchmarks measure up to.
      this.firstFrameMs = performance.now();
      performance.mark('zonecast:first-frame');
    }
  }

  /** Outside opening hours: a dark screen with the screen's name and the time, dim to save power. */
  private drawIdle(now: number, m: Manifest): void {
    const text = `${m.screen.name}\n${clockText(now, m.timeZone)}\n非开放时间`;
    if (text === this.lastIdle) return;
    this.lastIdle = text;
    if (!this.idleText) {
      const px = Math.max(16, Math.floor(m.screen.height / 10));
      this.idle.addChild(new Graphics().rect(0, 0, m.screen.width, m.screen.height).fill(COLORS.idle));
      this.idleText = new Text({ text, style: { fontFamily: FONT_FAMILY, fontSize: px, fill: COLORS.muted, align: 'center', lineHeight: Math.round(px * 1.4) } });
      this.idle.addChild(this.idleText);
    }
    this.idleText.text = text;
    this.idleText.position.set(Math.round((m.screen.width - this.idleText.width) / 2), Math.round((m.screen.height - this.idleText.height) / 2));
  }

  state(): RendererState {
    const now = this.opts.now();
    const regions: RendererState['regions'] = {};
    for (const r of this.regions) regions[r.region.id] = r.state();
    return {
      renderer: this.rendererName,
      manifestVersion: this.manifest?.version ?? null,
      pendingVersion: this.pending?.manifest.version ?? null,
      open: this.manifest ? screenOpen(this.manifest, now) : false,
      regions,
      fps: this.destroyed ? 0 : Math.round(this.app.ticker.FPS),
      textures: this.textures.count,
      now,
      firstFrameMs: this.firstFrameMs,
    };
  }

  /**
   * Frees the app and everything drawn. Safe at any moment, also while a manifest, its glyphs or
   * its textures are still loading (what finishes later is dropped), and more than once.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.showPattern(null);
    this.destroyed = true;
    this.pending = null;
    for (const r of this.regions) r.destroy();
    this.regions = [];
    // Whatever an item did not give back yet: shared textures stay with other renderers on the page.
    this.textures.dispose();
    // What is left on the stage is this renderer's own (idle screen, text) or an embedder's layer
    // it has detached first; textures shared through the page's Assets cache went with the regions.
    this.app.destroy({ removeView: false }, { children: true, texture: true, textureSource: true });
  }
}
