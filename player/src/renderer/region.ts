import { Container, Graphics } from 'pixi.js';
import { findAsset, regionShowing, type Manifest, type ManifestRegion, type RegionShowing } from '../../../content/index.js';
import { ClockView } from './clock.js';
import { createItemView, type ItemView, type ViewContext } from './items/index.js';
import type { RegionState } from '../state.js';
import type { TextureStore } from './textures.js';
import { typeScale } from './theme.js';

/** How long the crossfade between two items lasts. */
export const TRANSITION_MS = 400;
/** How long before a slot its image starts loading. */
const PREFETCH_MS = 2500;

interface Shown {
  readonly itemId: string;
  readonly slotStart: number;
  readonly view: ItemView;
}


/**
 * One layout region: a clipped container that shows the item the rules pick, crossfading from
 * the previous one, and destroys views (and so releases textures) as soon as they leave.
 */
export class RegionView {
  readonly container = new Container();
  private current: Shown | null = null;
  private outgoing: Shown | null = null;
  private clock: ClockView | null = null;
  private readonly ctx: ViewContext;
  /** A texture loaded ahead for the next slot, held until that slot's view has taken it. */
  private prefetched: { slotStart: number; url: string } | null = null;
  private destroyed = false;

  constructor(
    readonly region: ManifestRegion,
    manifest: Manifest,
    textures: TextureStore,
  ) {
    this.container.position.set(region.x, region.y);
    const mask = new Graphics().rect(0, 0, region.width, region.height).fill(0xffffff);
    this.container.addChild(mask);
    this.container.mask = mask;
    const type = typeScale(region.height, manifest.screen.viewingDistanceM, manifest.screen.pixelPitchMm, manifest.screen.mmPerMetre);
    this.ctx = { width: region.width, height: region.height, type, manifest, textures, timeZone: manifest.timeZone };
    if (region.widget === 'clock') {
      this.clock = new ClockView(region.width, region.height, manifest.timeZone, Math.max(type.small, Math.min(type.body, Math.floor(region.height * 0.6))));
      this.container.addChild(this.clock.container);
    }
  }

  /** Shows what `showing` says at `now`; `null` leaves the region empty. */
  update(now: number, showing: RegionShowing | null): void {
    if (this.destroyed) return;
    if (this.clock) {
      this.clock.update(now);
      return;
    }
    const changed = showing ? !this.current || this.current.itemId !== showing.itemId || this.current.slotStart !== showing.slotStart : this.current !== null;
    if (changed) {
      this.outgoing?.view.destroy();
      this.outgoing = this.current;
      this.current = null;
      const item = showing ? this.ctx.manifest.items[showing.itemId] : undefined;
      if (showing && item) {
        const view = createItemView(item, this.ctx, now);
        this.container.addChild(view.container);
        this.current = { itemId: showing.itemId, slotStart: showing.slotStart, view };
      }
    }
    if (this.prefetched && (!showing || showing.slotStart >= this.prefetched.slotStart)) {
      this.ctx.textures.release(this.prefetched.url);
      this.prefetched = null;
    }
    if (showing && !this.prefetched && showing.slotEnd - now < PREFETCH_MS) this.prefetchNext(showing.slotEnd);
    if (this.current && showing) {
      this.current.view.update(now, showing);
      const t = Math.min(1, Math.max(0, (now - this.current.slotStart) / TRANSITION_MS));
      this.current.view.container.alpha = this.outgoing ? t : 1;
      if (this.outgoing) this.outgoing.view.container.alpha = 1 - t;
      if (t >= 1 && this.outgoing) {
        this.outgoing.view.destroy();
        this.outgoing = null;
      }
    } else if (this.outgoing) {
      this.outgoing.view.destroy();
      this.outgoing = null;
    }
  }

  /** Loads the texture of the item due at `at`, so that it is on screen from its first frame. */
  private prefetchNext(at: number): void {
    const next = regionShowing(this.region, at, this.ctx.timeZone);
    const item = next ? this.ctx.manifest.items[next.itemId] : undefined;
    const hash = item && (item.kind === 'image' || item.kind === 'service-map' || item.kind === 'notice') ? (item.mediaHash ?? null) : null;
    const asset = hash ? findAsset(this.ctx.manifest.assets, hash, this.region.width, this.region.height) : undefined;
    if (!next || !asset) return;
    this.prefetched = { slotStart: next.slotStart, url: asset.url };
    void this.ctx.textures.acquire(asset.url).catch(() => undefined);
  }

  state(): RegionState {
    if (this.clock) return { itemId: null, page: 0, pages: 0, slotStart: null };
    return {
      itemId: this.current?.itemId ?? null,
      page: this.current?.view.page ?? 0,
      pages: this.current?.view.pages ?? 0,
      slotStart: this.current?.slotStart ?? null,
    };
  }

  /** Destroys the views and gives back their textures; safe more than once. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.prefetched) this.ctx.textures.release(this.prefetched.url);
    this.prefetched = null;
    this.current?.view.destroy();
    this.outgoing?.view.destroy();
    this.clock?.destroy();
    this.current = null;
    this.outgoing = null;
    this.container.destroy({ children: true, context: true });
  }
}
