import type { FastifyInstance } from 'fastify';
import { ContentInputSchema, ContentItemSchema, mediaHashesOf, type ContentItem } from '../../content/index.js';
import { AppError } from '../errors.js';
import { checkMedia, checkRef, checkWindow } from './checks.js';
import { registerCrud } from './crud.js';

/** Content items of every kind. */
export default async function contentRoutes(app: FastifyInstance): Promise<void> {
  registerCrud(app, {
    path: 'content',
    tag: 'content 内容',
    collection: 'content',
    idPrefix: 'c',
    input: ContentInputSchema,
    output: ContentItemSchema,
    filters: ['kind', 'zoneId', 'status'],
    build(input, draft, { id, now, existing }) {
      checkRef(draft, 'zones', input.zoneId);
      checkWindow(input.validFrom, input.validTo);
      if (input.kind === 'notice') checkWindow(input.publicityStart, input.publicityEnd);
      for (const hash of mediaHashesOf(input)) checkMedia(draft, hash);
      if (existing && existing.kind !== input.kind) throw new AppError('CONFLICT', 'the kind of an item cannot change');
      return { ...input, id, createdAt: existing?.createdAt ?? now, updatedAt: now } as ContentItem;
    },
    checkDelete(draft, id) {
      if (draft.playlists.some((p) => p.entries.some((e) => e.contentId === id))) throw new AppError('IN_USE', 'a playlist lists this item');
    },
    present: (doc) => doc,
    change: (before, after) => ({ entity: 'content', before, after }),
  });
}
