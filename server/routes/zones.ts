import type { FastifyInstance } from 'fastify';
import { ZoneInputSchema, ZoneSchema, checkZone, isWithin, zoneName, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { registerCrud } from './crud.js';

/** Zones of the three tiers; the full name is derived from the naming template on output. */
export default async function zoneRoutes(app: FastifyInstance): Promise<void> {
  registerCrud(app, {
    path: 'zones',
    tag: 'zones 专区',
    collection: 'zones',
    idPrefix: 'zone',
    entity: 'zone',
    permission: 'zone:write',
    // A zone is acted on from its parent's subtree; a new city (no parent) only by a system-wide admin.
    zoneOf: (z) => z.parentId ?? z.id ?? '',
    readable: (z, canRead) => canRead(z.id),
    input: ZoneInputSchema,
    output: ZoneSchema,
    filters: ['tier', 'parentId'],
    build(input, draft, { id, existing }) {
      const parent = input.parentId === null ? undefined : draft.zones.find((z) => z.id === input.parentId);
      if (input.parentId !== null && !parent) throw new AppError('ZONE_PARENT_INVALID', `no zone ${input.parentId}`);
      const problem = checkZone(input, parent);
      if (problem) throw new AppError(problem);
      if (draft.zones.some((z) => z.id !== id && z.divisionCode === input.divisionCode)) throw new AppError('ZONE_CODE_TAKEN', input.divisionCode);
      if (existing) {
        const children = draft.zones.filter((z) => z.parentId === id);
        if (existing.tier !== input.tier && children.length > 0) throw new AppError('ZONE_HAS_CHILDREN', 'change the tier only of a zone without children');
        const prefix = input.tier === 'city' ? 6 : 9;
        if (children.some((c) => c.divisionCode.slice(0, prefix) !== input.divisionCode.slice(0, prefix))) {
          throw new AppError('ZONE_CODE_INVALID', 'children’s codes would no longer share the prefix');
        }
      }
      const zone: Zone = { id, tier: input.tier, parentId: input.parentId, divisionCode: input.divisionCode, shortName: input.shortName, name: '' };
      if (existing && existing.parentId !== input.parentId) {
        // A derived layout's base must stay in its zone or above: a move may not leave one behind.
        const moved = new Map(draft.zones.map((z) => [z.id, z.id === id ? zone : z]));
        for (const layout of draft.layouts) {
          const base = layout.baseLayoutId ? draft.layouts.find((l) => l.id === layout.baseLayoutId) : undefined;
          if (base && !isWithin(layout.zoneId, base.zoneId, moved)) {
            throw new AppError('LAYOUT_BASE_INVALID', `moving this zone would leave layout ${layout.id} below a zone other than that of its base ${base.id}`);
          }
        }
      }
      return zone;
    },
    checkDelete(draft, id) {
      if (draft.zones.some((z) => z.parentId === id) || draft.screens.some((s) => s.zoneId === id)) throw new AppError('ZONE_HAS_CHILDREN');
      if (draft.content.some((c) => c.zoneId === id) || draft.playlists.some((p) => p.zoneId === id)) throw new AppError('IN_USE', 'content or playlists belong to this zone');
    },
    present(doc, data) {
      const byId = new Map(data.zones.map((z) => [z.id, z]));
      return { ...doc, name: zoneName(doc, byId, app.config.naming) };
    },
    change: (before, after) => ({ entity: 'zone', before, after }),
  });
}
