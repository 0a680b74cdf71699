import type { FastifyInstance } from 'fastify';
import { LayoutInputSchema, LayoutSchema, checkLayout, type Layout } from '../../content/index.js';
import { AppError } from '../errors.js';
import { checkRef } from './checks.js';
import { registerCrud } from './crud.js';

/** Layouts: pixel regions on a canvas, each with a playlist. */
export default async function layoutRoutes(app: FastifyInstance): Promise<void> {
  registerCrud(app, {
    path: 'layouts',
    tag: 'layouts 布局',
    collection: 'layouts',
    idPrefix: 'lay',
    entity: 'layout',
    permission: 'layout:write',
    zoneOf: (l) => l.zoneId,
    input: LayoutInputSchema,
    output: LayoutSchema,
    build(input, draft, { id, now, existing }) {
      const problem = checkLayout(input);
      if (problem) throw new AppError(problem);
      checkRef(draft, 'zones', input.zoneId);
      for (const r of input.regions) checkRef(draft, 'playlists', r.playlistId);
      const doc: Layout = { ...input, id, createdAt: existing?.createdAt ?? now, updatedAt: now };
      return doc;
    },
    checkDelete(draft, id) {
      if (draft.screens.some((s) => s.layoutId === id)) throw new AppError('IN_USE', 'a screen uses this layout');
    },
    present: (doc) => doc,
    change: (before, after) => ({ entity: 'layout', id: after?.id ?? before?.id ?? '' }),
  });
}
