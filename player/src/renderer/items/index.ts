import type { ContentItem } from '../../../../content/index.js';
import { documentOf } from './documents.js';
import { PictureView, VideoView } from './media.js';
import { NoticeView } from './notice.js';
import { PagedTextView } from './paged-text.js';
import { TickerView } from './ticker.js';
import type { ItemView, ViewContext } from './view.js';

/** True when a region fits only one line of body text: text there scrolls as a ticker. */
export function isTickerRegion(ctx: Pick<ViewContext, 'height' | 'type'>): boolean {
  return ctx.height < ctx.type.lineHeight * 2.2;
}

/** Creates the view of an item for a region at instant `now`. */
export function createItemView(item: ContentItem, ctx: ViewContext, now: number): ItemView {
  switch (item.kind) {
    case 'image':
    case 'service-map':
      return new PictureView(item, ctx);
    case 'video':
      return new VideoView(item, ctx);
    case 'text':
      if (isTickerRegion(ctx)) return new TickerView(item.body, ctx);
      break;
    default:
      if (isTickerRegion(ctx)) return new TickerView(`${item.title}  ${'body' in item ? item.body : ''}`, ctx);
  }
  const doc = documentOf(item, now, ctx.timeZone) ?? { label: '', title: item.title, meta: [], parts: [] };
  if (item.kind === 'notice' && item.mediaHash) return new NoticeView({ ...item, mediaHash: item.mediaHash }, doc, ctx);
  return new PagedTextView(doc, ctx);
}

export type { ItemView, ViewContext } from './view.js';
