import type { FastifyInstance } from 'fastify';
import { PlaylistInputSchema, PlaylistSchema, type Playlist } from '../../content/index.js';
import { AppError } from '../errors.js';
import { checkRef } from './checks.js';
import { registerCrud } from './crud.js';

/** Playlists: fixed lists of items, or rules resolved per screen. */
export default async function playlistRoutes(app: FastifyInstance): Promise<void> {
  registerCrud(app, {
    path: 'playlists',
    tag: 'playlists 播放列表',
    collection: 'playlists',
    idPrefix: 'pl',
    entity: 'playlist',
    permission: 'playlist:write',
    zoneOf: (p) => p.zoneId,
    input: PlaylistInputSchema,
    output: PlaylistSchema,
    filters: ['zoneId', 'mode'],
    build(input, draft, { id, now, existing }) {
      checkRef(draft, 'zones', input.zoneId);
      checkRef(draft, 'schedules', input.scheduleId);
      if (input.mode === 'rule' && !input.rule) throw new AppError('VALIDATION_FAILED', 'a rule playlist needs a rule');
      if (input.mode === 'fixed' && input.rule) throw new AppError('VALIDATION_FAILED', 'a fixed playlist has no rule');
      for (const e of input.entries) {
        checkRef(draft, 'content', e.contentId);
        checkRef(draft, 'schedules', e.scheduleId);
      }
      const doc: Playlist = { ...input, id, createdAt: existing?.createdAt ?? now, updatedAt: now };
      return doc;
    },
    checkDelete(draft, id) {
      if (draft.layouts.some((l) => l.regions.some((r) => r.playlistId === id))) throw new AppError('IN_USE', 'a layout region uses this playlist');
    },
    present: (doc) => doc,
    change: (before, after) => ({ entity: 'playlist', id: after?.id ?? before?.id ?? '' }),
  });
}
