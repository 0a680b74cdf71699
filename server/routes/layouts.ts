import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  LayoutInputSchema,
  LayoutSchema,
  checkDerivedLayout,
  checkLayout,
  isCityLevel,
  lockedRegionChanges,
  normalizeLayout,
  type Layout,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, principalOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Data } from '../services/store.js';
import { checkRef } from './checks.js';
import { IdParams, createDoc, errorResponses, registerCrud, type CrudSpec } from './crud.js';

const zoneMap = (data: Readonly<Data>) => new Map(data.zones.map((z) => [z.id, z]));

/**
 * Throws REGION_LOCKED when a write adds, changes or removes a locked region (or leaves the base
 * that supplies some) and the caller is not city-level. Checked on the draft, inside the write,
 * so a lock set a moment earlier is never overwritten by a lower tier.
 */
function assertLocks(req: FastifyRequest, draft: Readonly<Data>, before: Layout | undefined, after: Layout | undefined): void {
  const touched = lockedRegionChanges(before, after, (id) => draft.layouts.find((l) => l.id === id));
  if (touched.length > 0 && !isCityLevel(principalOf(req).user, zoneMap(draft))) throw new AppError('REGION_LOCKED', touched.join(', '));
}

/**
 * Layouts: pixel regions on a canvas, each with a playlist. A layout may derive from a base
 * layout of its zone or a zone above and then shows the base's locked regions beside its own.
 */
export default async function layoutRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const spec: CrudSpec<'layouts', typeof LayoutInputSchema, typeof LayoutSchema> = {
    path: 'layouts',
    tag: 'layouts 布局',
    collection: 'layouts',
    idPrefix: 'lay',
    entity: 'layout',
    permission: 'layout:write',
    zoneOf: (l) => l.zoneId,
    input: LayoutInputSchema,
    output: LayoutSchema,
    // Writes need the caller's tier for locked regions, which the generic factory does not pass on.
    skip: ['create', 'update', 'delete'],
    build(input, draft, { id, now, existing }) {
      const problem = checkLayout(input);
      if (problem) throw new AppError(problem);
      checkRef(draft, 'zones', input.zoneId);
      for (const r of input.regions) checkRef(draft, 'playlists', r.playlistId);
      checkRef(draft, 'layouts', input.baseLayoutId);
      const doc: Layout = { ...normalizeLayout(input), id, createdAt: existing?.createdAt ?? now, updatedAt: now };
      const zones = zoneMap(draft);
      const base = doc.baseLayoutId ? draft.layouts.find((l) => l.id === doc.baseLayoutId) : undefined;
      if (base) {
        const p = checkDerivedLayout(doc, base, zones);
        if (p) throw new AppError(p.code, p.detail);
      }
      // Layouts derived from this one must still fit it: same size, own regions clear of its locked ones.
      for (const derived of draft.layouts.filter((l) => l.baseLayoutId === id && l.id !== id)) {
        if (doc.baseLayoutId) throw new AppError('LAYOUT_BASE_INVALID', `layout ${derived.id} derives from this one, so it cannot have a base of its own`);
        const p = checkDerivedLayout(derived, doc, zones);
        if (p) throw new AppError(p.code, `layout ${derived.id}: ${p.detail}`);
      }
      return doc;
    },
    checkDelete(draft, id) {
      if (draft.screens.some((s) => s.layoutId === id)) throw new AppError('IN_USE', 'a screen uses this layout');
      if (draft.layouts.some((l) => l.baseLayoutId === id)) throw new AppError('IN_USE', 'a layout derives from this one');
    },
    present: (doc) => normalizeLayout(doc),
    change: (before, after) => ({ entity: 'layout', id: after?.id ?? before?.id ?? '' }),
  };
  registerCrud(app, spec);
  const tags = [spec.tag];
  const write = { auth: { permission: 'layout:write' } } as const;

  app.post(
    '/api/layouts',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create one of layouts (locking a region needs a city-level user)',
        body: LayoutInputSchema,
        response: { 201: LayoutSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const doc = await createDoc(app, req, spec, req.body, (built, draft) => {
        assertLocks(req, draft, undefined, built);
        return built;
      });
      return reply.status(201).send(spec.present(doc, app.store.read(), req));
    },
  );

  app.put(
    '/api/layouts/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Replace one of layouts (changing or removing a locked region needs a city-level user)',
        params: IdParams,
        body: LayoutInputSchema,
        response: { 200: LayoutSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (req.body.id !== undefined && req.body.id !== id) throw new AppError('VALIDATION_FAILED', 'body id differs from the URL');
      const [before, after] = await app.store.write((draft) => {
        const i = draft.layouts.findIndex((l) => l.id === id);
        const existing = draft.layouts[i];
        if (!existing) throw new AppError('NOT_FOUND', `layouts/${id}`);
        // The caller must act where the layout is now and where it is going.
        assertAllowed(req, draft, 'layout:write', existing.zoneId);
        assertAllowed(req, draft, 'layout:write', req.body.zoneId);
        const built = spec.build(req.body, draft, { id, now: new Date().toISOString(), existing, req });
        assertLocks(req, draft, existing, built);
        draft.layouts[i] = built;
        recordAudit(draft, { actor: actorOf(req), action: 'layout.update', entity: 'layout', entityId: id, zoneId: built.zoneId, before: existing, after: built });
        return [existing, built] as const;
      });
      await app.realtime.publish(spec.change(before, after));
      return spec.present(after, app.store.read(), req);
    },
  );

  app.delete(
    '/api/layouts/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Delete one of layouts (one with locked regions needs a city-level user)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const before = await app.store.write((draft) => {
        const i = draft.layouts.findIndex((l) => l.id === id);
        const existing = draft.layouts[i];
        if (!existing) throw new AppError('NOT_FOUND', `layouts/${id}`);
        assertAllowed(req, draft, 'layout:write', existing.zoneId);
        spec.checkDelete(draft, id);
        assertLocks(req, draft, existing, undefined);
        draft.layouts.splice(i, 1);
        recordAudit(draft, { actor: actorOf(req), action: 'layout.delete', entity: 'layout', entityId: id, zoneId: existing.zoneId, before: existing });
        return existing;
      });
      await app.realtime.publish(spec.change(before, undefined));
      return reply.status(204).send(null);
    },
  );
}
