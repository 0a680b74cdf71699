import type { Container } from 'pixi.js';
import type { ContentItem, Manifest, RegionShowing } from '../../../../content/index.js';
import type { TextureStore } from '../textures.js';
import type { TypeScale } from '../theme.js';

/** What an item view needs to know about where and when it is drawn. */
export interface ViewContext {
  readonly width: number;
  readonly height: number;
  readonly type: TypeScale;
  readonly manifest: Manifest;
  readonly textures: TextureStore;
  /** The city's time zone, for dates shown on screen. */
  readonly timeZone: string;
}

/** One item drawn in one region; the region owns its lifetime. */
export interface ItemView {
  readonly container: Container;
  /** How many pages the item has in this region. */
  readonly pages: number;
  /** The page showing now. */
  readonly page: number;
  /** Advances the view to instant `now` (server-corrected) within its slot. */
  update(now: number, slot: RegionShowing): void;
  /** Frees display objects and releases textures. */
  destroy(): void;
}

export type ViewFactory = (item: ContentItem, ctx: ViewContext) => ItemView;
